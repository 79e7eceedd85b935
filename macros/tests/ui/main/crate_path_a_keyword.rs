#[eddy::main(crate = "fn")]
async fn main() {}
