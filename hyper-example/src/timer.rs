//! [`EddyTimer`]: hyper's `Timer` on eddy's timers.

use std::pin::Pin;
use std::time::{Duration, Instant};

use hyper::rt::{Sleep, Timer};

use crate::EddySleep;

/// Gives hyper its timeouts (the HTTP/1 header read timeout, HTTP/2 keep
/// alive pings) on eddy's timer wheel: each sleep hyper asks for is an
/// [`eddy::time::sleep`] wrapped in an [`EddySleep`].
///
/// Set it on a connection builder:
/// `hyper::server::conn::http1::Builder::new().timer(EddyTimer)`. Without
/// a timer hyper silently skips its timeouts, including the 30-second
/// default header read timeout that protects a server from clients that
/// connect and never send a request.
///
/// # Panics
///
/// Like eddy's own sleeps, the returned sleeps panic if polled before their
/// deadline on a thread that runs no eddy runtime.
#[derive(Clone, Copy, Debug, Default)]
pub struct EddyTimer;

impl Timer for EddyTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        Box::pin(EddySleep::new(eddy::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        Box::pin(EddySleep::new(eddy::time::sleep_until(deadline)))
    }

    /// Moves an [`EddySleep`]'s deadline in place, keeping its timer entry
    /// and its boxed allocation. A sleep from another timer is replaced.
    fn reset(&self, sleep: &mut Pin<Box<dyn Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<EddySleep>() {
            Some(ours) => ours.get_mut().reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}
