#[eddy::test(worker_threads = 2)]
async fn on_one_thread() {}
