#[eddy::main]
const async fn main() {}
