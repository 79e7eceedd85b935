//! `#[eddy::main]` in a program: greets after a short sleep, from a task.
//!
//! ```sh
//! cargo run -p eddy-macros --example macros_main
//! ```

use std::time::Duration;

#[eddy::main]
async fn main() {
    let greeter = eddy::spawn(async {
        eddy::time::sleep(Duration::from_millis(100)).await;
        "hello from a task on an eddy runtime"
    });
    println!(
        "{}",
        greeter.await.expect("the greeter task does not panic")
    );
}
