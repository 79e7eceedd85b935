#[eddy::test(crate = "::eddy", start_paused = true)]
async fn sleeps() {}
