//! The runtime a program owns.

use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::sync::Arc;

use super::{Config, Core, Handle, Shared};
use crate::blocking::Pool;
use crate::task::JoinHandle;

/// A single-threaded async runtime: an executor, an I/O driver and timers,
/// all driven by the thread that calls [`block_on`](Runtime::block_on).
///
/// ```
/// let rt = eddy::Runtime::new().unwrap();
/// let answer = rt.block_on(async {
///     let task = eddy::spawn(async { 40 + 2 });
///     task.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
///
/// Dropping the runtime shuts it down in this order: new spawns are
/// refused; every task's future is dropped (on this thread, inside the
/// runtime, so its sockets deregister); the remote queue is drained; the I/O
/// driver marks every registration shut down and wakes its waiters; and only
/// then is the driver's `mio::Poll` dropped. Sockets that escaped fail
/// from then on with an error that
/// [`is_shutdown_error`](crate::is_shutdown_error) recognises. (A sleep
/// that escaped gets no error: it registers again with the runtime that
/// polls it next.)
///
/// The drop does not wait for `spawn_blocking` jobs (tokio's does): a job
/// already running finishes on its pool thread, jobs still queued run
/// after it, and their results go nowhere. Await their handles before
/// dropping the runtime if the work must be done.
///
/// A `Runtime` is neither `Send` nor `Sync`: its tasks need not be `Send`,
/// so it stays on the thread that made it. Use [`Handle`] to reach it from
/// other threads. (Soundness rests on this: a runtime that moved, or was
/// driven from two threads, would poll its `!Send` futures elsewhere.)
///
/// ```compile_fail
/// fn send<T: Send>(_: T) {}
/// send(eddy::Runtime::new().unwrap());
/// ```
///
/// ```compile_fail
/// fn sync<T: Sync>(_: &T) {}
/// sync(&eddy::Runtime::new().unwrap());
/// ```
#[derive(Debug)]
pub struct Runtime {
    /// The loop, its queues, tasks, timers and driver.
    core: Core,
    /// Keeps `Runtime` on its thread: it may hold `!Send` futures.
    _not_send: PhantomData<*const ()>,
}

impl Runtime {
    /// A runtime with default settings (see [`Builder`](crate::Builder)).
    pub fn new() -> io::Result<Runtime> {
        Runtime::with_config(Config::default())
    }

    /// The loop, for the core's unit tests.
    #[cfg(test)]
    pub(crate) fn core(&self) -> &Core {
        &self.core
    }

    pub(crate) fn with_config(config: Config) -> io::Result<Runtime> {
        let driver = eddy_io_driver::Driver::new(config.events_capacity)?;
        let pool = Pool::new(config.max_blocking_threads, config.blocking_keep_alive);
        let shared = Arc::new(Shared::new(driver.handle().clone(), pool));
        Ok(Runtime {
            core: Core::new(shared, driver, config),
            _not_send: PhantomData,
        })
    }

    /// Runs `future` to completion on this thread, running every spawned
    /// task, timer and socket meanwhile. Tasks still pending when it returns
    /// keep their state and run again at the next `block_on`: every call
    /// runs at least one round of them (queued tasks polled, the driver
    /// turned without waiting), even one whose future is ready at once.
    ///
    /// # Panics
    ///
    /// Panics if called from inside a runtime (it would block that
    /// runtime's thread).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.core.block_on(future)
    }

    /// Spawns a task; it starts running at the next `block_on`. The future
    /// need not be `Send`.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.core.spawn(future)
    }

    /// A handle to this runtime, usable from any thread.
    pub fn handle(&self) -> Handle {
        Handle::new(self.core.shared_arc().clone())
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.core.shutdown();
    }
}
