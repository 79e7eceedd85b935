//! `timeout` and `timeout_at`: the inner future's value or `Elapsed`, and the
//! deadline a timeout reports.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use eddy::time::{sleep, timeout, timeout_at};
use eddy_tests::DropFlag;

use crate::{ms, timers_live};

#[test]
fn timeout_cancels_the_inner_future_and_returns_elapsed() {
    eddy::run(async {
        let dropped = Rc::new(Cell::new(false));
        let guard = DropFlag(Rc::clone(&dropped));
        let start = Instant::now();
        let result = timeout(ms(20), async move {
            let _guard = guard;
            sleep(Duration::from_secs(3600)).await;
            "finished"
        })
        .await;
        assert!(result.is_err(), "expected Elapsed, got {result:?}");
        assert!(start.elapsed() >= ms(20));
        assert!(dropped.get(), "the inner future must be dropped");
        assert_eq!(timers_live(), 0, "the inner sleep's timer must be freed");
    });
}

#[test]
fn elapsed_says_what_happened_and_converts_to_timed_out() {
    let elapsed = eddy::run(async { timeout(Duration::ZERO, sleep(ms(50))).await.unwrap_err() });
    assert_eq!(elapsed.to_string(), "deadline has elapsed");
    let io: std::io::Error = elapsed.into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
}

#[test]
fn timeout_returns_the_value_when_the_future_is_fast() {
    eddy::run(async {
        assert_eq!(timeout(Duration::from_secs(3600), async { 7 }).await, Ok(7));
        let quick = timeout(Duration::from_secs(3600), async {
            sleep(ms(5)).await;
            8
        });
        assert_eq!(quick.await, Ok(8));
        assert_eq!(timers_live(), 0, "the deadline's timer must be freed");
    });
}

#[test]
fn a_ready_future_beats_an_already_passed_deadline() {
    eddy::run(async {
        let past = Instant::now();
        assert_eq!(timeout_at(past, async { 9 }).await, Ok(9));
        assert_eq!(timeout(Duration::ZERO, async { 10 }).await, Ok(10));
    });
}

#[test]
fn a_timeout_reports_the_deadline_it_was_given() {
    // No runtime needed: neither future is polled.
    let deadline = Instant::now() + Duration::from_secs(3600);
    let bounded = timeout_at(deadline, std::future::pending::<()>());
    assert_eq!(bounded.deadline(), deadline);
    let after = Instant::now();
    let bounded = timeout(Duration::from_secs(60), std::future::pending::<()>());
    assert!(
        bounded.deadline() >= after + Duration::from_secs(60),
        "a timeout's deadline is before its duration from its creation"
    );
}
