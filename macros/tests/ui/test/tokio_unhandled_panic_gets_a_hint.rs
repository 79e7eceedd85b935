#[eddy::test(unhandled_panic = "shutdown_runtime")]
async fn a_panicking_task_stops_the_runtime() {}
