#[eddy::main]
async fn main() -> Result<(), std::io::Error> {
    Ok(())
}
