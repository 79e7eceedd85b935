#[eddy::main(crate = r#"my-eddy"#)]
async fn main() {}
