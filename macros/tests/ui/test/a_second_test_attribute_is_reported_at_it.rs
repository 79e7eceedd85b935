#[eddy::test]
#[test]
async fn runs_once() {}
