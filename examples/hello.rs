//! The first program to read: spawn, sleep, timeout, join.
//!
//! ```sh
//! cargo run --example hello
//! ```

use std::time::Duration;

use eddy::time::{sleep, timeout};

fn main() {
    eddy::run(async {
        // A task runs alongside this one; its JoinHandle yields its result.
        let greeter = eddy::spawn(async {
            sleep(Duration::from_millis(50)).await;
            "hello from a task"
        });

        // A timeout gives up on a future that takes too long.
        let slow = sleep(Duration::from_secs(10));
        match timeout(Duration::from_millis(100), slow).await {
            Ok(()) => println!("the slow sleep finished (it should not have)"),
            Err(elapsed) => println!("gave up on the slow sleep: {elapsed}"),
        }

        // Joining waits for the task (it finished long ago).
        println!("{}", greeter.await.expect("the task does not panic"));

        // A panicking task does not take the runtime down.
        let failing = eddy::spawn(async { panic!("this task fails") });
        let error = failing.await.expect_err("the task panicked");
        println!("a task failed and the runtime carried on: {error}");
    });
    println!("next: `cargo run --release --example echo`, then `nc 127.0.0.1 7878`");
}
