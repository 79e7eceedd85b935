//! The macros in a crate that turns on more lints than rustc's defaults:
//! clippy's pedantic group, rustc's stricter allow-by-default lints, and
//! `clippy::future_not_send`, which crates for multi-threaded runtimes
//! enable. Each lint below is denied, and `cargo clippy` fails on this
//! file if it fires on code the macros wrote; the user's code here is
//! written to pass all of them.

#![deny(
    warnings,
    clippy::pedantic,
    clippy::future_not_send,
    rust_2018_idioms,
    unused_qualifications,
    unused_results
)]

use std::cell::Cell;
use std::rc::Rc;

use eddy::Runtime;

/// A body holding an `Rc` across an `await`: fine on eddy, whose futures
/// need not be `Send`. `clippy::future_not_send` fired on the inner
/// `async fn` the macros write, "future returned by `__eddy_body` is not
/// `Send`", a name the user never wrote, for a future eddy never sends.
#[eddy::test]
async fn a_future_that_is_not_send_draws_no_lint() {
    let count = Rc::new(Cell::new(0));
    eddy::task::yield_now().await;
    count.set(count.get() + 1);
    assert_eq!(count.get(), 1);
}

/// The same through `#[eddy::main]` on a helper a synchronous test calls.
#[eddy::main]
async fn count_on_a_runtime_of_its_own() -> Result<u32, std::io::Error> {
    let count = Rc::new(Cell::new(1));
    eddy::task::yield_now().await;
    count.set(count.get() + 1);
    Ok(count.get())
}

#[test]
fn a_main_whose_future_is_not_send_draws_no_lint() {
    assert_eq!(count_on_a_runtime_of_its_own().unwrap(), 2);
}

/// A `Runtime` imported by the user does not make the macros' absolute
/// path to it an unused qualification.
#[eddy::test]
async fn an_imported_runtime_draws_no_unused_qualification() {
    let runtime: fn() -> std::io::Result<Runtime> = Runtime::new;
    eddy::task::yield_now().await;
    assert!(
        std::thread::spawn(move || runtime().is_ok())
            .join()
            .unwrap()
    );
}
