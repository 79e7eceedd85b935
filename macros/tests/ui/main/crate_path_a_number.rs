#[eddy::main(crate = "1e")]
async fn main() {}
