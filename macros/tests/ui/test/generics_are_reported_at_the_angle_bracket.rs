#[eddy::test]
async fn generic<T: Default>() {
    let _value = T::default();
}
