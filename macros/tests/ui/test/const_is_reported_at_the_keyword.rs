#[eddy::test]
const async fn constant() {}
