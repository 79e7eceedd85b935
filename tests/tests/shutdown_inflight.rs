//! Dropping a runtime with everything in flight at once, and a seeded
//! random walk over spawn, abort, timers, sockets and cross-thread wakes.
//!
//! `shutdown.rs` proves each shutdown rule on its own; this file piles them
//! up: live echo connections mid-stream, a reader parked on a silent socket,
//! a writer parked by backpressure, long timers, two tasks each awaiting the
//! other's `JoinHandle`, a task whose `Drop` spawns and one whose `Drop`
//! panics, remote spawns and wakes hammering the runtime from another thread
//! while it drops. The drop must return, the metrics must read zero, and
//! every escaped handle (socket, join handle, waker) must fail clearly or do
//! nothing, on this thread and on others.
//!
//! The random test checks, after every step, that the runtime's own
//! accounting (`tasks_alive`, `registrations_live`) matches what the test
//! knows is alive, that every released task finished (no lost wake-up), and
//! at the end that every `JoinHandle` resolved exactly once with the
//! outcome its history calls for.
//!
//! Everything runs under `with_deadline`; nothing asserts a duration.

use std::cell::{Cell, RefCell};
use std::future::{Future, pending, poll_fn};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use eddy::io::{AsyncRead, AsyncWrite};
use eddy::net::{TcpListener, TcpStream};
use eddy::task::{JoinError, JoinHandle, yield_now};
use eddy::{Handle, Metrics, Runtime};
use eddy_tests::{
    CountDrop, Signal, XorShift, panic_message, tcp_echo, tcp_pair, wait_until, with_deadline,
};

/// Hang detector, not a performance bound.
const LIMIT: Duration = Duration::from_secs(120);

/// Far enough away that no timer of these tests fires on its own.
const AN_HOUR: Duration = Duration::from_secs(3600);

/// Sets its flag when dropped.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Spawns a task from its `Drop`: during shutdown the spawn must be
/// refused (a cancelled handle), not panic or hang.
struct SpawnOnDrop {
    /// Where the handle of the task spawned in `drop` is left.
    spawned: Arc<Mutex<Option<JoinHandle<()>>>>,
    /// Set when that task's future is dropped.
    spawned_future_dropped: Arc<AtomicBool>,
}

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        let flag = SetOnDrop(self.spawned_future_dropped.clone());
        let handle = eddy::spawn(async move {
            let _flag = flag;
            pending::<()>().await;
        });
        *self.spawned.lock().unwrap() = Some(handle);
    }
}

/// Panics from its `Drop`.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("PanicOnDrop: dropped");
    }
}

/// Round trips forever through the echo server, counting them.
async fn echo_forever(mut stream: TcpStream, round_trips: Rc<Cell<u64>>) -> io::Result<()> {
    let out = [0x5Au8; 1024];
    let mut back = [0u8; 1024];
    loop {
        stream.write_all(&out).await?;
        stream.read_exact(&mut back).await?;
        assert_eq!(back, out);
        round_trips.set(round_trips.get() + 1);
    }
}

/// Everything that escapes the runtime in the in-flight test.
struct Escaped {
    /// The client end of a live echo connection.
    stream: TcpStream,
    /// A reader parked on a socket nobody writes to.
    reader: JoinHandle<io::Result<usize>>,
    /// A writer parked because its peer stopped reading.
    writer: JoinHandle<io::Result<()>>,
    /// A task asleep for an hour.
    sleeper: JoinHandle<()>,
    /// A task whose future panics when dropped.
    panics_on_drop: JoinHandle<()>,
    /// A task whose future spawns when dropped.
    spawns_on_drop: JoinHandle<()>,
    /// The waker of a task parked forever.
    task_waker: Waker,
    /// The waker of the `block_on` future itself.
    main_waker: Waker,
}

/// Builds the in-flight state described in the module docs and returns
/// what escapes. Runs inside `block_on`.
async fn everything_in_flight(
    spawned_in_drop: Arc<Mutex<Option<JoinHandle<()>>>>,
    spawned_future_dropped: Arc<AtomicBool>,
) -> Escaped {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local_addr");

    // Parked reader: nobody ever writes to its socket; the peer end lives
    // in a task that waits forever, so it is dropped by the shutdown too.
    let (silent_peer, read_end) = tcp_pair(&listener).await;
    eddy::spawn(async move {
        let _peer = silent_peer;
        pending::<()>().await;
    });
    let reader_parked = Rc::new(Cell::new(false));
    let reader = {
        let parked = reader_parked.clone();
        let mut stream = read_end;
        eddy::spawn(async move {
            let mut buf = [0u8; 64];
            poll_fn(|cx| {
                let attempt = Pin::new(&mut stream).poll_read(cx, &mut buf);
                parked.set(attempt.is_pending());
                attempt
            })
            .await
        })
    };

    // Parked writer: its peer never reads, so it parks once the kernel's
    // buffers are full.
    let (deaf_peer, write_end) = tcp_pair(&listener).await;
    eddy::spawn(async move {
        let _peer = deaf_peer;
        pending::<()>().await;
    });
    let writer_parked_after = Rc::new(Cell::new(0u64));
    let writer = {
        let parked_after = writer_parked_after.clone();
        let mut stream = write_end;
        eddy::spawn(async move {
            let chunk = vec![0xA5u8; 64 * 1024];
            let mut written = 0u64;
            loop {
                let n = poll_fn(|cx| {
                    let attempt = Pin::new(&mut stream).poll_write(cx, &chunk);
                    if attempt.is_pending() && written > 0 {
                        parked_after.set(written);
                    }
                    attempt
                })
                .await?;
                written += n as u64;
            }
        })
    };

    // The echo server (its accept loop stays parked on the listener) and
    // six clients round-tripping through it.
    eddy::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.expect("accept");
            eddy::spawn(tcp_echo(stream));
        }
    });
    let counters: Vec<Rc<Cell<u64>>> = (0..6).map(|_| Rc::new(Cell::new(0))).collect();
    for round_trips in &counters {
        let stream = TcpStream::connect(addr).await.expect("connect");
        eddy::spawn(echo_forever(stream, round_trips.clone()));
    }
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"ping")
        .await
        .expect("escaped stream works");
    let mut pong = [0u8; 4];
    stream
        .read_exact(&mut pong)
        .await
        .expect("escaped stream works");
    assert_eq!(&pong, b"ping");

    // Pending timers: a plain sleep and a timeout around a pending future.
    let sleeper = eddy::spawn(eddy::time::sleep(AN_HOUR));
    eddy::spawn(async {
        let _ = eddy::time::timeout(AN_HOUR, pending::<()>()).await;
    });

    // Two tasks blocked on each other, each awaiting the other's handle
    // (which only the other task holds: neither can ever finish).
    let holds_a: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
    let holds_b: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
    let mutual_waiting = Rc::new(Cell::new(0));
    let awaiting = |slot: Rc<RefCell<Option<JoinHandle<()>>>>, waiting: Rc<Cell<u32>>| async move {
        let other = loop {
            if let Some(handle) = slot.borrow_mut().take() {
                break handle;
            }
            yield_now().await;
        };
        waiting.set(waiting.get() + 1);
        let _ = other.await;
    };
    let a = eddy::spawn(awaiting(holds_b.clone(), mutual_waiting.clone()));
    let b = eddy::spawn(awaiting(holds_a.clone(), mutual_waiting.clone()));
    *holds_a.borrow_mut() = Some(a);
    *holds_b.borrow_mut() = Some(b);

    // Drop impls that spawn and that panic.
    let spawns_on_drop = {
        let guard = SpawnOnDrop {
            spawned: spawned_in_drop,
            spawned_future_dropped,
        };
        eddy::spawn(async move {
            let _guard = guard;
            pending::<()>().await;
        })
    };
    let panics_on_drop = eddy::spawn(async {
        let _guard = PanicOnDrop;
        pending::<()>().await;
    });

    // A task parked forever whose waker escapes.
    let stored: Rc<RefCell<Option<Waker>>> = Rc::default();
    {
        let stored = stored.clone();
        eddy::spawn(poll_fn(move |cx: &mut Context<'_>| {
            *stored.borrow_mut() = Some(cx.waker().clone());
            Poll::<()>::Pending
        }));
    }

    // Let it all get going: every client mid-echo, the reader and the
    // writer parked, every timer registered.
    wait_until(|| {
        counters.iter().all(|c| c.get() >= 3)
            && reader_parked.get()
            && writer_parked_after.get() > 0
            && stored.borrow().is_some()
            && mutual_waiting.get() == 2
    })
    .await;
    let metrics = Handle::current().metrics();
    assert!(metrics.timers_live >= 2, "{metrics:?}");
    assert!(
        metrics.registrations_live >= 2 * 6 + 4 + 1 + 2,
        "{metrics:?}"
    );

    let task_waker = stored.borrow_mut().take().expect("stored above");
    let main_waker = poll_fn(|cx| Poll::Ready(cx.waker().clone())).await;
    Escaped {
        stream,
        reader,
        writer,
        sleeper,
        panics_on_drop,
        spawns_on_drop,
        task_waker,
        main_waker,
    }
}

/// Asserts the snapshot of a runtime that shut down cleanly.
fn assert_nothing_left(metrics: Metrics) {
    assert_eq!(metrics.tasks_alive, 0, "{metrics:?}");
    assert_eq!(metrics.registrations_live, 0, "{metrics:?}");
    assert_eq!(metrics.registrations_pending_release, 0, "{metrics:?}");
    assert_eq!(metrics.timers_live, 0, "{metrics:?}");
}

/// Polls `handle` once with a no-op waker: a finished task's handle is
/// ready without any runtime.
fn poll_now<T: Unpin>(handle: &mut JoinHandle<T>) -> Poll<Result<T, JoinError>> {
    let mut cx = Context::from_waker(Waker::noop());
    Pin::new(handle).poll(&mut cx)
}

fn expect_cancelled<T: Unpin>(handle: &mut JoinHandle<T>, what: &str) {
    assert!(handle.is_finished(), "{what}: unfinished after shutdown");
    match poll_now(handle) {
        Poll::Ready(Err(error)) => assert!(error.is_cancelled(), "{what}: {error:?}"),
        Poll::Ready(Ok(_)) => panic!("{what}: produced a value after being cancelled"),
        Poll::Pending => panic!("{what}: still pending after shutdown"),
    }
}

#[test]
fn dropping_the_runtime_with_everything_in_flight_returns_and_escaped_handles_fail_clearly() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().expect("runtime");
        let handle = rt.handle();
        let spawned_in_drop = Arc::new(Mutex::new(None));
        let spawned_future_dropped = Arc::new(AtomicBool::new(false));
        let mut escaped = rt.block_on(everything_in_flight(
            spawned_in_drop.clone(),
            spawned_future_dropped.clone(),
        ));

        // Another thread spawns and wakes as fast as it can while the
        // runtime drops: before, during and after the remote queue closes.
        let stop = Arc::new(AtomicBool::new(false));
        let remote_drops = Arc::new(AtomicUsize::new(0));
        let hammer = {
            let (stop, drops, handle) = (stop.clone(), remote_drops.clone(), handle.clone());
            let waker = escaped.task_waker.clone();
            thread::spawn(move || {
                let mut spawned = Vec::new();
                while !stop.load(Ordering::SeqCst) || spawned.len() < 100 {
                    waker.wake_by_ref();
                    if spawned.len() < 20_000 {
                        let guard = CountDrop(drops.clone());
                        spawned.push(handle.spawn(async move {
                            let _guard = guard;
                            pending::<()>().await;
                        }));
                    }
                }
                spawned
            })
        };
        drop(rt);
        stop.store(true, Ordering::SeqCst);
        let mut remote = hammer.join().expect("hammer thread");

        assert!(handle.is_shutdown());
        assert_nothing_left(handle.metrics());

        // Every remote spawn was cancelled and its future dropped once.
        for (i, spawned) in remote.iter_mut().enumerate() {
            expect_cancelled(spawned, &format!("remote spawn {i}"));
        }
        assert_eq!(remote_drops.load(Ordering::SeqCst), remote.len());

        // Join handles: cancelled, or the panic from the future's Drop.
        expect_cancelled(&mut escaped.reader, "parked reader");
        expect_cancelled(&mut escaped.writer, "parked writer");
        expect_cancelled(&mut escaped.spawns_on_drop, "task whose Drop spawns");
        match poll_now(&mut escaped.panics_on_drop) {
            Poll::Ready(Err(error)) if error.is_panic() => {
                let payload = error.into_panic();
                assert_eq!(panic_message(&*payload), "PanicOnDrop: dropped");
            }
            other => panic!("the Drop panic is reported through the handle, got {other:?}"),
        }
        let spawned_in_drop = spawned_in_drop
            .lock()
            .unwrap()
            .take()
            .expect("the Drop ran and spawned");
        let mut spawned_in_drop = spawned_in_drop;
        expect_cancelled(&mut spawned_in_drop, "task spawned from a Drop");
        assert!(spawned_future_dropped.load(Ordering::SeqCst));

        // A handle resolved on another thread.
        let mut sleeper = escaped.sleeper;
        let from_thread = thread::spawn(move || {
            expect_cancelled(&mut sleeper, "sleeper");
        });
        from_thread.join().expect("handle used on another thread");

        // The escaped socket: the shutdown error, on a fresh runtime and
        // from other threads, never a hang.
        let mut stream = escaped.stream;
        let fresh = Runtime::new().expect("fresh runtime");
        fresh.block_on(async {
            let mut buf = [0u8; 8];
            let error = stream
                .read(&mut buf)
                .await
                .expect_err("read after shutdown");
            assert!(eddy::is_shutdown_error(&error), "{error:?}");
            let error = stream
                .write_all(b"x")
                .await
                .expect_err("write after shutdown");
            assert!(eddy::is_shutdown_error(&error), "{error:?}");
        });
        thread::scope(|scope| {
            for _ in 0..2 {
                scope.spawn(|| {
                    let mut buf = [0u8; 8];
                    let error = stream.try_read(&mut buf).expect_err("try_read");
                    assert!(eddy::is_shutdown_error(&error), "{error:?}");
                    let error = stream.try_write(b"x").expect_err("try_write");
                    assert!(eddy::is_shutdown_error(&error), "{error:?}");
                });
            }
        });
        drop(stream);

        // Wakers: harmless from any thread, any number of times.
        let wakers = [escaped.task_waker, escaped.main_waker];
        thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for waker in &wakers {
                        waker.wake_by_ref();
                        // A clone woken by value, as a channel would.
                        let copy = waker.clone();
                        copy.wake();
                    }
                });
            }
        });
        for waker in wakers {
            waker.wake();
        }
        assert_nothing_left(handle.metrics());
    });
}

// ---------------------------------------------------------------------------
// Seeded random walk
// ---------------------------------------------------------------------------

/// A task's life as its own future reports it.
const ALIVE: u8 = 0;
/// The future ran to the end.
const DONE: u8 = 1;
/// The future was dropped before its end (aborted).
const DROPPED: u8 = 2;

/// Lives inside a task's future from the moment it is created: reports
/// `DONE` when the task reaches its end, `DROPPED` if the future is dropped
/// first (including before its first poll).
struct LifeGuard(Arc<AtomicU8>);

impl LifeGuard {
    fn finish(&self) {
        self.0.store(DONE, Ordering::SeqCst);
    }
}

impl Drop for LifeGuard {
    fn drop(&mut self) {
        let _ = self
            .0
            .compare_exchange(ALIVE, DROPPED, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// Wraps `inner` so the task reports its life and returns `id`.
fn tracked<F: Future<Output = ()>>(
    id: u64,
    life: Arc<AtomicU8>,
    inner: F,
) -> impl Future<Output = u64> {
    let guard = LifeGuard(life);
    async move {
        let guard = guard;
        inner.await;
        guard.finish();
        id
    }
}

/// A socket end the model counts as open until it is dropped.
struct Counted {
    /// The socket.
    stream: TcpStream,
    /// The model's count of open sockets.
    open: Rc<Cell<usize>>,
}

impl Counted {
    fn new(stream: TcpStream, open: &Rc<Cell<usize>>) -> Counted {
        open.set(open.get() + 1);
        Counted {
            stream,
            open: open.clone(),
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.open.set(self.open.get() - 1);
    }
}

/// One spawned task as the model tracks it.
struct Tracked {
    id: u64,
    /// `None` once the handle resolved.
    handle: Option<JoinHandle<u64>>,
    life: Arc<AtomicU8>,
    /// The gate a gate task waits for.
    gate: Option<Signal>,
    /// Whether `abort` was called on it.
    aborted: bool,
    /// Whether its gate was set.
    released: bool,
}

/// The random walk's state.
struct Walk {
    rng: XorShift,
    tasks: Vec<Tracked>,
    /// Open pairs held by the walk: (client end, server end unless a reader
    /// task owns it).
    pairs: Vec<(Counted, Option<Counted>)>,
    open: Rc<Cell<usize>>,
    next_id: u64,
    resolved: usize,
    listener: TcpListener,
    handle: Handle,
}

impl Walk {
    fn new_life(&mut self) -> (u64, Arc<AtomicU8>) {
        self.next_id += 1;
        (self.next_id, Arc::new(AtomicU8::new(ALIVE)))
    }

    fn push(
        &mut self,
        id: u64,
        life: Arc<AtomicU8>,
        handle: JoinHandle<u64>,
        gate: Option<Signal>,
    ) {
        self.tasks.push(Tracked {
            id,
            handle: Some(handle),
            life,
            gate,
            aborted: false,
            released: false,
        });
    }

    /// A random tracked task whose handle has not resolved, if any.
    fn pick(&mut self, want: impl Fn(&Tracked) -> bool) -> Option<usize> {
        let candidates: Vec<usize> = (0..self.tasks.len())
            .filter(|&i| self.tasks[i].handle.is_some() && want(&self.tasks[i]))
            .collect();
        if candidates.is_empty() {
            None
        } else {
            Some(candidates[self.rng.index(candidates.len())])
        }
    }

    async fn step(&mut self) {
        match self.rng.below(11) {
            0 => {
                let (id, life) = self.new_life();
                let gate = Signal::new();
                let task = eddy::spawn(tracked(id, life.clone(), gate.wait()));
                self.push(id, life, task, Some(gate));
            }
            1 => {
                let (id, life) = self.new_life();
                let ms = self.rng.below(3);
                let task = eddy::spawn(tracked(
                    id,
                    life.clone(),
                    eddy::time::sleep(Duration::from_millis(ms)),
                ));
                self.push(id, life, task, None);
            }
            2 => {
                if let Some(i) = self.pick(|_| true) {
                    self.tasks[i].aborted = true;
                    self.tasks[i].handle.as_ref().expect("picked").abort();
                }
            }
            3 => {
                if let Some(i) = self.pick(|t| t.gate.is_some() && !t.released) {
                    self.tasks[i].released = true;
                    self.tasks[i].gate.as_ref().expect("gate").set();
                }
            }
            4 => {
                // A cross-thread wake.
                if let Some(i) = self.pick(|t| t.gate.is_some() && !t.released) {
                    self.tasks[i].released = true;
                    let gate = self.tasks[i].gate.clone().expect("gate");
                    thread::spawn(move || gate.set())
                        .join()
                        .expect("waker thread");
                }
            }
            5 => {
                // A spawn from another thread, through the remote queue.
                let (id, life) = self.new_life();
                let gate = Signal::new();
                let future = tracked(id, life.clone(), gate.wait());
                let handle = self.handle.clone();
                let task = thread::spawn(move || handle.spawn(future))
                    .join()
                    .expect("spawning thread");
                self.push(id, life, task, Some(gate));
            }
            6 | 7 => self.open_pair().await,
            8 => {
                if !self.pairs.is_empty() {
                    let i = self.rng.index(self.pairs.len());
                    drop(self.pairs.swap_remove(i));
                }
            }
            9 => self.resolve_finished(),
            _ => eddy::time::sleep(Duration::from_millis(1)).await,
        }
    }

    /// Connects a loopback pair; half the time a reader task owns the
    /// server end and reads until the client end closes.
    async fn open_pair(&mut self) {
        let (client, server) = tcp_pair(&self.listener).await;
        let client = Counted::new(client, &self.open);
        let server = Counted::new(server, &self.open);
        if self.rng.below(2) == 0 {
            self.pairs.push((client, Some(server)));
            return;
        }
        let (id, life) = self.new_life();
        let task = eddy::spawn(tracked(id, life.clone(), async move {
            let mut server = server;
            let mut buf = [0u8; 64];
            // Until end-of-stream or an error: either ends the task.
            while let Ok(n) = server.stream.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        }));
        self.push(id, life, task, None);
        self.pairs.push((client, None));
    }

    /// Resolves every finished handle, checking its outcome.
    fn resolve_finished(&mut self) {
        for task in &mut self.tasks {
            let Some(handle) = task.handle.as_mut() else {
                continue;
            };
            if !handle.is_finished() {
                continue;
            }
            let outcome = match poll_now(handle) {
                Poll::Ready(outcome) => outcome,
                Poll::Pending => panic!("task {}: finished but its handle is pending", task.id),
            };
            task.handle = None;
            self.resolved += 1;
            check_outcome(task, outcome);
        }
    }

    /// The invariants that hold after every step, once the runtime has had
    /// two ticks (each with a driver turn) to act on it.
    fn check(&self, step: usize) {
        let metrics = self.handle.metrics();
        let alive = self
            .tasks
            .iter()
            .filter(|t| t.life.load(Ordering::SeqCst) == ALIVE)
            .count();
        assert_eq!(metrics.tasks_alive, alive, "step {step}: {metrics:?}");
        for task in &self.tasks {
            let life = task.life.load(Ordering::SeqCst);
            if task.aborted {
                assert_ne!(
                    life, ALIVE,
                    "step {step}: task {} outlived its abort",
                    task.id
                );
            }
            if task.released && !task.aborted {
                assert_eq!(
                    life, DONE,
                    "step {step}: task {}'s wake-up was lost",
                    task.id
                );
            }
        }
        // The listener plus every open socket; deregistered ones were
        // released by the driver turns.
        assert_eq!(
            metrics.registrations_live,
            1 + self.open.get(),
            "step {step}: {metrics:?}"
        );
        assert_eq!(metrics.registrations_pending_release, 0, "step {step}");
    }
}

/// A resolved handle carries what the task's history calls for.
fn check_outcome(task: &Tracked, outcome: Result<u64, JoinError>) {
    match (task.life.load(Ordering::SeqCst), outcome) {
        (DONE, Ok(id)) => assert_eq!(id, task.id),
        (DROPPED, Err(error)) => {
            assert!(error.is_cancelled(), "task {}: {error:?}", task.id);
            assert!(
                task.aborted,
                "task {} was cancelled but never aborted",
                task.id
            );
        }
        (life, outcome) => panic!("task {}: life {life} but outcome {outcome:?}", task.id),
    }
}

fn random_walk(seed: u64, steps: usize) {
    with_deadline(LIMIT, move || {
        let rt = Runtime::new().expect("runtime");
        let handle = rt.handle();
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let mut walk = Walk {
                rng: XorShift(seed),
                tasks: Vec::new(),
                pairs: Vec::new(),
                open: Rc::new(Cell::new(0)),
                next_id: 0,
                resolved: 0,
                listener,
                handle: Handle::current(),
            };
            for step in 0..steps {
                walk.step().await;
                yield_now().await;
                yield_now().await;
                walk.check(step);
            }
            // Wind down: release every gate, close every pair, and wait for
            // every task to end; then every handle resolves exactly once.
            for task in &mut walk.tasks {
                if let Some(gate) = &task.gate {
                    task.released = true;
                    gate.set();
                }
            }
            walk.pairs.clear();
            wait_until(|| {
                walk.tasks
                    .iter()
                    .all(|t| t.life.load(Ordering::SeqCst) != ALIVE)
            })
            .await;
            yield_now().await;
            yield_now().await;
            walk.check(steps);
            walk.resolve_finished();
            assert_eq!(walk.resolved, walk.tasks.len(), "every handle resolved");
            assert!(walk.tasks.iter().all(|t| t.handle.is_none()));
            let metrics = Handle::current().metrics();
            assert_eq!(metrics.tasks_alive, 0, "{metrics:?}");
            assert_eq!(metrics.timers_live, 0, "{metrics:?}");
            assert_eq!(metrics.registrations_live, 1, "{metrics:?}");
        });
        drop(rt);
        assert_nothing_left(handle.metrics());
    });
}

#[test]
fn seeded_random_walk_of_spawns_aborts_timers_sockets_and_remote_wakes_keeps_the_books_seed_1() {
    random_walk(1, 300);
}

#[test]
fn seeded_random_walk_of_spawns_aborts_timers_sockets_and_remote_wakes_keeps_the_books_seed_2() {
    random_walk(0x9E37_79B9_7F4A_7C15, 300);
}

#[test]
fn seeded_random_walk_of_spawns_aborts_timers_sockets_and_remote_wakes_keeps_the_books_seed_3() {
    random_walk(0xDEAD_BEEF_CAFE_F00D, 300);
}
