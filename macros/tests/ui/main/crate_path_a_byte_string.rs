#[eddy::main(crate = b"::eddy")]
async fn main() {}
