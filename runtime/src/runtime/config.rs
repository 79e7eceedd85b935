//! The runtime's tunables, fixed when it is built.

use std::time::Duration;

/// What `Builder` collected. Copied into the core.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Config {
    /// Task polls between two driver turns when the run queue never empties,
    /// so a busy queue cannot starve sockets and timers.
    pub(crate) event_interval: u32,
    /// I/O operations a task may complete in one poll before it is made to
    /// yield, so a socket that is always ready cannot starve other tasks.
    pub(crate) budget: u32,
    /// Capacity of the driver's event buffer (events handled per turn).
    pub(crate) events_capacity: usize,
    /// Most threads the blocking pool may run at once.
    pub(crate) max_blocking_threads: usize,
    /// How long an idle blocking thread waits for work before it exits.
    pub(crate) blocking_keep_alive: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            event_interval: 61,
            budget: 128,
            events_capacity: 1024,
            max_blocking_threads: 64,
            blocking_keep_alive: Duration::from_secs(10),
        }
    }
}
