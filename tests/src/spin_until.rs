//! A busy task with a bound, for proving that it does not starve others.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

/// Awaits `step()` in a loop until `stop` is set, and returns whether that
/// happened before `give_up_after` rounds.
///
/// Spawned as a task, it is a spinner that keeps the runtime busy. A test
/// sets `stop` from the work that must not starve and asserts `true`; if
/// that work starves, the spinner gives up and the assertion fails instead
/// of the test hanging.
pub async fn spin_until<Fut>(stop: Rc<Cell<bool>>, give_up_after: u64, step: fn() -> Fut) -> bool
where
    Fut: Future<Output = ()>,
{
    let mut spins = 0u64;
    while !stop.get() && spins < give_up_after {
        step().await;
        spins += 1;
    }
    spins < give_up_after
}
