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
/// runtime, so its sockets deregister); the blocking pool refuses new
/// jobs; the remote queue is drained; the I/O
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
    /// Fails only if the OS refuses an epoll (or kqueue) instance.
    ///
    /// ```
    /// let rt = eddy::Runtime::new()?;
    /// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
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
    /// ```
    /// use eddy::net::UdpSocket;
    ///
    /// let rt = eddy::Runtime::new()?;
    /// let socket = rt.block_on(UdpSocket::bind("127.0.0.1:0"))?;
    /// let addr = socket.local_addr()?;
    /// let task = rt.spawn(async move {
    ///     let mut buf = [0; 16];
    ///     socket.recv_from(&mut buf).await.map(|(len, _)| len)
    /// });
    /// rt.block_on(async {}); // the task starts, and waits for a datagram
    /// assert!(!task.is_finished());
    /// // The next call goes on running it.
    /// let received = rt.block_on(async {
    ///     let sender = UdpSocket::bind("127.0.0.1:0").await?;
    ///     sender.send_to(b"ping", addr).await?;
    ///     task.await.unwrap()
    /// })?;
    /// assert_eq!(received, 4);
    /// # Ok::<(), std::io::Error>(())
    /// ```
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
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// let rt = eddy::Runtime::new()?;
    /// let shared = Rc::new("not Send");
    /// let task = rt.spawn(async move { shared.len() });
    /// assert!(!task.is_finished()); // nothing runs outside `block_on`
    /// assert_eq!(rt.block_on(task).unwrap(), 8);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.core.spawn(future)
    }

    /// A handle to this runtime, usable from any thread.
    ///
    /// ```
    /// let rt = eddy::Runtime::new()?;
    /// let handle = rt.handle();
    /// let task = std::thread::spawn(move || handle.spawn(async { "from a thread" }))
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), "from a thread");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn handle(&self) -> Handle {
        Handle::new(self.core.shared_arc().clone())
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.core.shutdown();
    }
}
