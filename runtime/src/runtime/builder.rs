//! Building a runtime with non-default settings.

use std::io;
use std::time::Duration;

use super::{Config, Runtime};

/// Configures and builds a [`Runtime`].
///
/// Tracing has no switch here: compile with the `trace` feature and choose
/// what to see with the `tracing` subscriber's filter (for example
/// `RUST_LOG=eddy=trace`), the switch every `tracing` user already knows.
///
/// ```
/// let rt = eddy::Builder::new().event_interval(31).build().unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    /// The settings collected so far.
    config: Config,
}

impl Builder {
    /// A builder with the defaults `Runtime::new` uses.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Task polls between two I/O driver turns while tasks keep being ready
    /// (default 61). Lower favours I/O latency, higher favours throughput.
    /// Polls of the `block_on` future count too, but every round between
    /// two turns still polls at least one queued task, so even an interval
    /// of 1 with a busy `block_on` future starves no task.
    ///
    /// ```
    /// // Turn the driver after every 16 polls: a latency-sensitive server.
    /// let rt = eddy::Builder::new().event_interval(16).build()?;
    /// let task = rt.spawn(async { "ran" });
    /// assert_eq!(rt.block_on(task).unwrap(), "ran");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    ///
    /// Panics if `polls` is zero.
    pub fn event_interval(mut self, polls: u32) -> Builder {
        assert!(polls > 0, "event_interval must be at least 1");
        self.config.event_interval = polls;
        self
    }

    /// I/O operations a task may complete in one poll before it must yield
    /// (default 128).
    ///
    /// An operation (on one socket, in one direction, one expired sleep,
    /// or one signal listener's delivery) that found the budget spent and yielded goes ahead the next
    /// time it finds it spent in a later poll, so it cannot starve behind
    /// other work of the same task that spends the whole budget at every
    /// poll; a poll may therefore complete a few operations more than this
    /// (one per socket direction that found the budget spent in an earlier
    /// poll, one per sleep, signal listener, `accept`, `send_to`,
    /// `recv_from`, `readable` or other such operation that found it spent
    /// in one, and one timeout
    /// that elapses just after its inner future spent the last unit).
    /// Only this thread's earlier polls count: on a socket shared with a
    /// runtime on another thread, what that runtime's polls left does not
    /// let an operation here through, so the bound holds on each thread.
    ///
    /// One exception: a `poll_*` method (`poll_read`, `poll_write`,
    /// `poll_send_ready`, `AsyncFd::poll_read_with`, ...) keeps no mark of
    /// its own, only its socket direction's, and another future of the
    /// same task on the same socket and direction (a loop of `send_to`
    /// beside a `poll_send_ready` on one UDP socket) may take that
    /// direction's pass first at every poll: the `poll_*` call then
    /// starves for as long as the other goes on. Await the `async`
    /// operation (`writable`, `send_to`) instead, which keeps its own.
    ///
    /// The budget belongs to the task's poll, so an eddy operation driven
    /// by another executor inside a task (`futures::executor::block_on` in
    /// async code) after the budget is spent is refused at every one of
    /// that executor's polls, all within the task's one poll, and spins;
    /// tokio's operations do the same. Blocking inside a task stalls the
    /// runtime anyway: await the operation instead.
    ///
    /// ```
    /// // Even a budget of one operation per poll gets a flood through:
    /// // the task yields between datagrams and is polled again.
    /// let rt = eddy::Builder::new().budget(1).build()?;
    /// let received = rt.block_on(async {
    ///     let socket = eddy::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     for _ in 0..10 {
    ///         socket.send_to(b"x", socket.local_addr()?).await?;
    ///     }
    ///     let mut buf = [0; 1];
    ///     let mut received = 0;
    ///     while received < 10 {
    ///         received += socket.recv_from(&mut buf).await?.0;
    ///     }
    ///     Ok::<_, std::io::Error>(received)
    /// })?;
    /// assert_eq!(received, 10);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    ///
    /// Panics if `operations` is zero.
    pub fn budget(mut self, operations: u32) -> Builder {
        assert!(operations > 0, "budget must be at least 1");
        self.config.budget = operations;
        self
    }

    /// How many I/O events one driver turn can handle (default 1024); more
    /// stay queued in the OS for the next turn, so this only tunes batching.
    ///
    /// Clamped to `1..=`[`MAX_EVENTS_CAPACITY`](Self::MAX_EVENTS_CAPACITY):
    /// a turn must be able to return at least one event, and unclamped, a
    /// huge value would panic: at `build` when the buffer cannot be
    /// allocated (`usize::MAX`), or at the first turn when `epoll_wait`
    /// refuses it (`EINVAL` above `INT_MAX / 12` events).
    ///
    /// ```
    /// // One event per turn: slower, but nothing is lost.
    /// let rt = eddy::Builder::new().events_capacity(1).build()?;
    /// let echoed = rt.block_on(async {
    ///     let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = eddy::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     client.write_all(b"ping").await?;
    ///     let mut buf = [0; 4];
    ///     server.read_exact(&mut buf).await?;
    ///     Ok::<_, std::io::Error>(buf)
    /// })?;
    /// assert_eq!(&echoed, b"ping");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn events_capacity(mut self, events: usize) -> Builder {
        self.config.events_capacity = events.clamp(1, Self::MAX_EVENTS_CAPACITY);
        self
    }

    /// The largest [`events_capacity`](Self::events_capacity) a runtime
    /// uses: 2^20 events, a 12 MiB buffer on Linux, far below the
    /// `epoll_wait` limit of about 179 million.
    pub const MAX_EVENTS_CAPACITY: usize = 1 << 20;

    /// Most threads `spawn_blocking` may use at once (default 64). Zero is
    /// taken as one: a pool with no thread could run nothing.
    ///
    /// ```
    /// let rt = eddy::Builder::new().max_blocking_threads(1).build()?;
    /// let threads = rt.block_on(async {
    ///     let first = eddy::task::spawn_blocking(|| std::thread::current().id());
    ///     let second = eddy::task::spawn_blocking(|| std::thread::current().id());
    ///     // The second job waits for the one thread, and runs on it.
    ///     assert_eq!(first.await.unwrap(), second.await.unwrap());
    ///     eddy::Handle::current().metrics().blocking_threads
    /// });
    /// assert_eq!(threads, 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn max_blocking_threads(mut self, threads: usize) -> Builder {
        self.config.max_blocking_threads = threads.max(1);
        self
    }

    /// How long an idle blocking thread lingers before exiting (default 10s).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = eddy::Builder::new()
    ///     .thread_keep_alive(Duration::from_millis(1))
    ///     .build()?;
    /// rt.block_on(async {
    ///     eddy::task::spawn_blocking(|| ()).await.unwrap();
    ///     // Idle, the pool thread exits a moment later.
    ///     let exited = async {
    ///         while eddy::Handle::current().metrics().blocking_threads > 0 {
    ///             eddy::time::sleep(Duration::from_millis(1)).await;
    ///         }
    ///     };
    ///     let waited = eddy::time::timeout(Duration::from_secs(10), exited).await;
    ///     waited.expect("the idle thread has exited");
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn thread_keep_alive(mut self, keep_alive: Duration) -> Builder {
        self.config.blocking_keep_alive = keep_alive;
        self
    }

    /// Creates the runtime: its epoll/kqueue instance and cross-thread
    /// waker. Fails only if the OS refuses those (out of descriptors).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = eddy::Builder::new()
    ///     .event_interval(31)
    ///     .budget(64)
    ///     .events_capacity(256)
    ///     .max_blocking_threads(4)
    ///     .thread_keep_alive(Duration::from_secs(1))
    ///     .build()?;
    /// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build(self) -> io::Result<Runtime> {
        Runtime::with_config(self.config)
    }
}
