//! `Handle::metrics` fields whose doc says more than "counts X": when a
//! read on the runtime thread sees `polls` move, and which spawns count as
//! remote wakes.

use std::time::Duration;

use eddy::{Handle, Runtime};
use eddy_tests::with_deadline;

const LIMIT: Duration = Duration::from_secs(30);

/// `Metrics::polls` is added up once a round of tasks ends: two tasks
/// polled in one round read the same count, and the `block_on` future,
/// polled after that round, sees both polls (and not its own).
#[test]
fn polls_read_by_tasks_of_one_round_leave_that_round_out() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let before = Handle::current().metrics().polls;
            let first = eddy::spawn(async { Handle::current().metrics().polls });
            let second = eddy::spawn(async { Handle::current().metrics().polls });
            let (first, second) = (first.await.unwrap(), second.await.unwrap());
            assert_eq!(first, before);
            assert_eq!(second, before);
            assert_eq!(Handle::current().metrics().polls, before + 2);
        });
    });
}

/// A `Handle::spawn` on the runtime's own thread, outside `block_on`, goes
/// through the remote queue and is counted in `remote_wakes`, as its doc
/// says; the same call inside `block_on` is a local spawn and is not.
#[test]
fn handle_spawn_outside_block_on_counts_as_a_remote_wake() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let outside = handle.spawn(async { 1 });
        assert_eq!(rt.block_on(outside).unwrap(), 1);
        assert_eq!(handle.metrics().remote_wakes, 1);
        rt.block_on(async {
            let inside = Handle::current().spawn(async { 2 });
            assert_eq!(inside.await.unwrap(), 2);
        });
        let metrics = handle.metrics();
        assert_eq!(metrics.remote_wakes, 1, "{metrics:?}");
        assert_eq!(metrics.tasks_spawned, 2, "{metrics:?}");
    });
}

/// `timers_live` read between `block_on` calls counts only timers that are
/// still alive: a `Timeout` whose future finished first keeps its armed
/// `Sleep` until `block_on` drops it, and that drop, on the runtime
/// thread, removes the entry, so the count published on the way out must
/// come after it.
#[test]
fn timers_live_after_block_on_leaves_out_the_main_futures_dropped_timer() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let finished = rt.block_on(eddy::time::timeout(Duration::from_secs(3600), async {
            // Pending once, so the timeout arms its sleep before finishing.
            eddy::task::yield_now().await;
            7
        }));
        assert_eq!(finished, Ok(7));
        let metrics = handle.metrics();
        assert_eq!(metrics.timers_live, 0, "{metrics:?}");
    });
}

/// A `block_on` whose future panics still publishes `timers_live` on its
/// way out: the unwinding drops the future, and with it the sleep it had
/// armed, so a reader after the panic must not see that timer.
#[test]
fn timers_live_after_a_block_on_that_panicked_leaves_out_its_dropped_timer() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async {
                let sleep = eddy::time::sleep(Duration::from_secs(3600));
                let mut sleep = std::pin::pin!(sleep);
                assert!(eddy_tests::poll_once(sleep.as_mut()).await.is_pending());
                // A yield turns the driver, which publishes the armed sleep.
                eddy::task::yield_now().await;
                assert_eq!(Handle::current().metrics().timers_live, 1);
                panic!("the block_on future panics");
            })
        }));
        assert!(panicked.is_err());
        let metrics = handle.metrics();
        assert_eq!(metrics.timers_live, 0, "{metrics:?}");
    });
}

/// A waker that panics when the task it waits on finishes ends the
/// `block_on` call (the runtime resumes its panic), but the round's polls
/// are still counted: `polls` counts every task poll since the runtime
/// started, the one that woke the panicking waker too.
#[test]
fn polls_count_the_round_a_panicking_join_handle_waker_ended() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let mut task = rt.spawn(async { 5 });
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(std::future::poll_fn(|_| {
                // The handle waits with a waker of some other executor,
                // which panics when the task completes.
                let waker = eddy_tests::panicking_waker("the join handle's waker panics");
                let mut cx = std::task::Context::from_waker(&waker);
                assert!(std::pin::Pin::new(&mut task).poll(&mut cx).is_pending());
                std::task::Poll::<()>::Pending
            }))
        }));
        let payload = panicked.expect_err("the waker's panic ends block_on");
        assert_eq!(
            eddy_tests::panic_message(&*payload),
            "the join handle's waker panics"
        );
        let metrics = handle.metrics();
        assert_eq!(metrics.polls, 1, "{metrics:?}");
        assert_eq!(rt.block_on(task).unwrap(), 5);
        let metrics = handle.metrics();
        assert_eq!(metrics.polls, 1, "{metrics:?}");
    });
}
