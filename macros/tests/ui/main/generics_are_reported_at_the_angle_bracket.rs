#[eddy::main]
async fn main<T>() {}
