#[eddy::main(crate = "::")]
async fn main() {}
