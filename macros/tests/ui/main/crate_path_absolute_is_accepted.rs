#[eddy::main(crate = "::eddy")]
async fn main() {}
