#[eddy::test]
async fn takes_a_port(port: u8) {
    let _ = port;
}
