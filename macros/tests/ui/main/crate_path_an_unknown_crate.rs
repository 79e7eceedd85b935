#[eddy::main(crate = "edy")]
async fn main() {}
