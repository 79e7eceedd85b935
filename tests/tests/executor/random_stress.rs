//! Seeded random stress: random spawns, joins, aborts, detaches and remote
//! wakes against a model of the runtime.

use std::future::{Future, pending};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use eddy::task::{JoinError, JoinHandle, yield_now};
use eddy::{Handle, Runtime};
use eddy_tests::{Signal, XorShift, panic_message, poll_once, with_deadline};

use crate::yield_until;

/// What a stress task does before it returns its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ready,
    Yield(u32),
    Sleep(u64),
    Wait,
    Forever,
    Panic,
}

/// Per task id: how often its future was dropped and how often its body
/// ran to the end. Both must stay at most 1; dropped is exactly 1 once the
/// handle says finished.
struct Ledger {
    dropped: Vec<AtomicU32>,
    completed: Vec<AtomicU32>,
}

impl Ledger {
    fn new(ids: usize) -> Ledger {
        Ledger {
            dropped: (0..ids).map(|_| AtomicU32::new(0)).collect(),
            completed: (0..ids).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    fn dropped(&self, id: usize) -> u32 {
        self.dropped[id].load(Ordering::SeqCst)
    }

    fn completed(&self, id: usize) -> u32 {
        self.completed[id].load(Ordering::SeqCst)
    }
}

/// Counts the drop of the future it is moved into (even one never polled).
struct DropCount {
    ledger: Arc<Ledger>,
    id: usize,
}

impl Drop for DropCount {
    fn drop(&mut self) {
        self.ledger.dropped[self.id].fetch_add(1, Ordering::SeqCst);
    }
}

/// The future of stress task `id`. `Send`, so it can be spawned remotely.
fn stress_task(
    id: usize,
    kind: Kind,
    ledger: Arc<Ledger>,
    signal: Signal,
) -> Pin<Box<dyn Future<Output = usize> + Send>> {
    let guard = DropCount {
        ledger: Arc::clone(&ledger),
        id,
    };
    Box::pin(async move {
        let _guard = guard;
        match kind {
            Kind::Ready => {}
            Kind::Yield(n) => {
                for _ in 0..n {
                    yield_now().await;
                }
            }
            Kind::Sleep(ms) => eddy::time::sleep(Duration::from_millis(ms)).await,
            Kind::Wait => signal.wait().await,
            Kind::Forever => pending::<()>().await,
            Kind::Panic => {
                yield_now().await;
                panic!("stress task {id} panics on purpose");
            }
        }
        ledger.completed[id].fetch_add(1, Ordering::SeqCst);
        id
    })
}

/// A task the stress test spawned and has not joined yet.
struct Tracked {
    id: usize,
    kind: Kind,
    handle: JoinHandle<usize>,
    signal: Signal,
    /// `abort` was called on the runtime thread while the task had not
    /// finished: it must end cancelled.
    aborted_while_pending: bool,
    /// The helper thread aborted it while the runtime ran: it may end
    /// either way, but exactly once.
    abort_raced: bool,
    /// Spawned through `Handle::spawn` on the helper thread.
    remote: bool,
}

/// What the helper thread does for the runtime thread, concurrently with it
/// unless a reply is awaited.
enum Command {
    /// `Handle::spawn` this future and send the handle back.
    Spawn(Pin<Box<dyn Future<Output = usize> + Send>>),
    /// Set this signal: a wake from another thread.
    Wake(Signal),
    /// Abort this task from the helper thread and send it back.
    Abort(Tracked),
    /// Drop this handle on the helper thread: the task is detached.
    Detach(Tracked),
}

/// The helper thread's side of the conversation.
fn helper_thread(
    handle: Handle,
    commands: mpsc::Receiver<Command>,
    spawned: mpsc::Sender<JoinHandle<usize>>,
    returned: mpsc::Sender<Tracked>,
) {
    for command in commands {
        match command {
            Command::Spawn(future) => spawned.send(handle.spawn(future)).unwrap(),
            Command::Wake(signal) => signal.set(),
            Command::Abort(task) => {
                task.handle.abort();
                returned.send(task).unwrap();
            }
            Command::Detach(task) => drop(task.handle),
        }
    }
}

/// The stress test's model of the runtime.
struct World {
    seed: u64,
    rng: XorShift,
    ledger: Arc<Ledger>,
    /// Handles the runtime thread holds.
    tracked: Vec<Tracked>,
    /// Tasks lent to the helper thread for an abort, not yet returned.
    lent: usize,
    /// Tasks whose handle the helper dropped, with their wake signal.
    detached: Vec<(usize, Signal)>,
    /// Ids handed out so far (= tasks spawned).
    next_id: usize,
    /// Per id: spawned through the helper thread.
    remote: Vec<bool>,
    /// Ids whose future was alive at the last check.
    unfinished: Vec<usize>,
    local_spawned: u64,
    /// Which ids were joined already: each must be joined exactly once.
    joined: Vec<bool>,
    commands: mpsc::Sender<Command>,
    spawned: mpsc::Receiver<JoinHandle<usize>>,
    returned: mpsc::Receiver<Tracked>,
}

impl World {
    fn random_kind(&mut self) -> Kind {
        match self.rng.below(100) {
            0..=19 => Kind::Ready,
            20..=44 => Kind::Yield(self.rng.below(4) as u32),
            45..=59 => Kind::Sleep(self.rng.below(3)),
            60..=79 => Kind::Wait,
            80..=97 => Kind::Forever,
            _ => Kind::Panic,
        }
    }

    fn spawn(&mut self, remote: bool) {
        let id = self.next_id;
        self.next_id += 1;
        self.remote.push(remote);
        self.unfinished.push(id);
        let kind = self.random_kind();
        let signal = Signal::new();
        let future = stress_task(id, kind, Arc::clone(&self.ledger), signal.clone());
        let handle = if remote {
            self.commands.send(Command::Spawn(future)).unwrap();
            self.spawned.recv().unwrap()
        } else {
            self.local_spawned += 1;
            eddy::spawn(future)
        };
        self.tracked.push(Tracked {
            id,
            kind,
            handle,
            signal,
            aborted_while_pending: false,
            abort_raced: false,
            remote,
        });
    }

    fn pick(&mut self) -> Option<usize> {
        if self.tracked.is_empty() {
            None
        } else {
            Some(self.rng.index(self.tracked.len()))
        }
    }

    fn take_back_returned(&mut self) {
        while let Ok(task) = self.returned.try_recv() {
            self.lent -= 1;
            self.tracked.push(task);
        }
    }

    async fn step(&mut self) {
        self.take_back_returned();
        match self.rng.below(100) {
            0..=27 => self.spawn(false),
            28..=37 => self.spawn(true),
            38..=47 => {
                if let Some(i) = self.pick() {
                    let task = &mut self.tracked[i];
                    task.aborted_while_pending |= !task.handle.is_finished();
                    task.handle.abort();
                }
            }
            48..=50 => {
                if let Some(i) = self.pick() {
                    let mut task = self.tracked.swap_remove(i);
                    task.abort_raced = true;
                    self.lent += 1;
                    self.commands.send(Command::Abort(task)).unwrap();
                }
            }
            51..=52 => {
                // Detach a task that can end by itself.
                if let Some(i) = self
                    .pick()
                    .filter(|&i| self.tracked[i].kind != Kind::Forever)
                {
                    let task = self.tracked.swap_remove(i);
                    assert!(!self.joined[task.id]);
                    self.joined[task.id] = true; // nobody will ever join it
                    self.detached.push((task.id, task.signal.clone()));
                    self.commands.send(Command::Detach(task)).unwrap();
                }
            }
            53..=63 => {
                if let Some(i) = self.pick() {
                    // Possibly a late wake of a finished task: harmless.
                    let signal = self.tracked[i].signal.clone();
                    if self.rng.below(2) == 0 {
                        signal.set();
                    } else {
                        self.commands.send(Command::Wake(signal)).unwrap();
                    }
                }
            }
            64..=75 => yield_now().await,
            76..=79 => eddy::time::sleep(Duration::from_millis(self.rng.below(3))).await,
            _ => {
                if let Some(i) = self
                    .pick()
                    .filter(|&i| self.tracked[i].handle.is_finished())
                {
                    let mut task = self.tracked.swap_remove(i);
                    let Poll::Ready(outcome) = poll_once(Pin::new(&mut task.handle)).await else {
                        panic!("a finished handle must be ready at once");
                    };
                    self.check_outcome(&task, outcome, false);
                }
            }
        }
    }

    /// Checks one joined handle's outcome against what the task was told to
    /// do. `cancel_allowed`: the runtime shut down before the task finished.
    fn check_outcome(
        &mut self,
        task: &Tracked,
        outcome: Result<usize, JoinError>,
        cancel_allowed: bool,
    ) {
        let (seed, id) = (self.seed, task.id);
        assert!(!self.joined[id], "seed {seed:#x}: task {id} joined twice");
        self.joined[id] = true;
        let completed = self.ledger.completed(id);
        match outcome {
            Ok(value) => {
                assert_eq!(value, id, "seed {seed:#x}");
                assert!(
                    !task.aborted_while_pending,
                    "seed {seed:#x}: task {id} ({:?}) was aborted yet returned a value",
                    task.kind
                );
                assert_ne!(task.kind, Kind::Panic, "seed {seed:#x}: task {id}");
                assert_ne!(task.kind, Kind::Forever, "seed {seed:#x}: task {id}");
                assert_eq!(completed, 1, "seed {seed:#x}: task {id}");
            }
            Err(error) if error.is_cancelled() => {
                assert!(
                    task.aborted_while_pending || task.abort_raced || cancel_allowed,
                    "seed {seed:#x}: task {id} ({:?}, remote: {}) cancelled without abort",
                    task.kind,
                    task.remote
                );
                assert_eq!(completed, 0, "seed {seed:#x}: task {id}");
            }
            Err(error) => {
                assert_eq!(task.kind, Kind::Panic, "seed {seed:#x}: task {id}: {error}");
                let message = panic_message(&*error.into_panic());
                assert_eq!(message, format!("stress task {id} panics on purpose"));
                assert_eq!(completed, 0, "seed {seed:#x}: task {id}");
            }
        }
        assert_eq!(
            self.ledger.dropped(id),
            1,
            "seed {seed:#x}: task {id}'s future must be dropped exactly once"
        );
    }

    /// The invariants that hold between any two steps. Only tasks whose
    /// future was still alive at the last check are rescanned (the final
    /// check of the round covers every id), which keeps a step O(live tasks).
    fn check_invariants(&mut self, step: usize) {
        let seed = self.seed;
        let ledger = Arc::clone(&self.ledger);
        self.unfinished.retain(|&id| {
            let (dropped, completed) = (ledger.dropped(id), ledger.completed(id));
            assert!(
                dropped <= 1 && completed <= dropped,
                "seed {seed:#x} step {step}: task {id} dropped {dropped}, completed {completed}"
            );
            dropped == 0
        });
        for task in &self.tracked {
            assert_eq!(
                task.handle.is_finished(),
                ledger.dropped(task.id) == 1,
                "seed {seed:#x} step {step}: task {} ({:?}, remote: {}): \
                 finished must mean its future is gone, and only then",
                task.id,
                task.kind,
                task.remote
            );
        }
        // Every local task is in the slab until its future is gone; a
        // remote one only once the runtime adopted it.
        let metrics = Handle::current().metrics();
        let at_most = self.unfinished.len();
        let at_least = self
            .unfinished
            .iter()
            .filter(|&&id| !self.remote[id])
            .count();
        assert!(
            (at_least..=at_most).contains(&metrics.tasks_alive),
            "seed {seed:#x} step {step}: tasks_alive {} outside {at_least}..={at_most}",
            metrics.tasks_alive
        );
        assert!(
            (self.local_spawned..=self.next_id as u64).contains(&metrics.tasks_spawned),
            "seed {seed:#x} step {step}: tasks_spawned {} outside {}..={}",
            metrics.tasks_spawned,
            self.local_spawned,
            self.next_id
        );
    }

    /// Takes back every lent task, blocking for the helper.
    fn take_back_all_lent(&mut self) {
        while self.lent > 0 {
            let task = self.returned.recv().unwrap();
            self.lent -= 1;
            self.tracked.push(task);
        }
    }

    /// Lets every task end (abort the endless ones, wake the waiting ones)
    /// and joins them all.
    async fn finish(&mut self) {
        self.take_back_all_lent();
        for task in &mut self.tracked {
            match task.kind {
                Kind::Forever => {
                    task.aborted_while_pending |= !task.handle.is_finished();
                    task.handle.abort();
                }
                Kind::Wait => task.signal.set(),
                _ => {}
            }
        }
        for (_, signal) in &self.detached {
            signal.set();
        }
        while let Some(mut task) = self.tracked.pop() {
            let outcome = (&mut task.handle).await;
            self.check_outcome(&task, outcome, false);
        }
        // Detached tasks run to the end although nobody joins them.
        let ledger = Arc::clone(&self.ledger);
        let ids: Vec<usize> = self.detached.iter().map(|(id, _)| *id).collect();
        let all_ended = yield_until(|| ids.iter().all(|&id| ledger.dropped(id) == 1), 10_000);
        assert!(
            all_ended.await,
            "seed {:#x}: a detached task never ended",
            self.seed
        );
    }
}

/// One round of the stress test: `STEPS` random actions on a fresh runtime,
/// then either a clean finish or a drop with tasks still alive.
fn stress_round(seed: u64, drop_with_tasks_alive: bool) {
    const STEPS: usize = 4_000;
    let ledger = Arc::new(Ledger::new(STEPS));
    let rt = Runtime::new().unwrap();
    let (commands, command_rx) = mpsc::channel();
    let (spawned_tx, spawned) = mpsc::channel();
    let (returned_tx, returned) = mpsc::channel();
    let helper = {
        let handle = rt.handle();
        thread::spawn(move || helper_thread(handle, command_rx, spawned_tx, returned_tx))
    };
    let world = World {
        seed,
        rng: XorShift(seed),
        ledger: Arc::clone(&ledger),
        tracked: Vec::new(),
        lent: 0,
        detached: Vec::new(),
        next_id: 0,
        remote: Vec::new(),
        unfinished: Vec::new(),
        local_spawned: 0,
        joined: vec![false; STEPS],
        commands,
        spawned,
        returned,
    };
    let mut world = rt.block_on(async move {
        let mut world = world;
        for step in 0..STEPS {
            world.step().await;
            world.check_invariants(step);
        }
        if !drop_with_tasks_alive {
            world.finish().await;
        }
        world
    });
    let handle = rt.handle();
    if drop_with_tasks_alive {
        world.take_back_all_lent();
        let finished_before_drop: Vec<bool> = world
            .tracked
            .iter()
            .map(|t| t.handle.is_finished())
            .collect();
        drop(rt);
        // Late wakes from both threads, after the runtime is gone.
        for task in &world.tracked {
            task.signal.set();
            world
                .commands
                .send(Command::Wake(task.signal.clone()))
                .unwrap();
        }
        let mut tracked = std::mem::take(&mut world.tracked);
        for task in &tracked {
            assert!(
                task.handle.is_finished(),
                "seed {seed:#x}: task {}",
                task.id
            );
        }
        let fresh = Runtime::new().unwrap();
        let outcomes: Vec<_> = fresh.block_on(async {
            let mut outcomes = Vec::new();
            for task in &mut tracked {
                outcomes.push((&mut task.handle).await);
            }
            outcomes
        });
        for ((task, outcome), finished) in tracked.iter().zip(outcomes).zip(finished_before_drop) {
            world.check_outcome(task, outcome, !finished);
        }
    }
    let metrics = handle.metrics();
    assert_eq!(metrics.tasks_alive, 0, "seed {seed:#x}: {metrics:?}");
    assert_eq!(metrics.timers_live, 0, "seed {seed:#x}: {metrics:?}");
    assert!(
        world.joined[..world.next_id].iter().all(|&j| j),
        "seed {seed:#x}: a handle was never joined"
    );
    for id in 0..world.next_id {
        assert_eq!(ledger.dropped(id), 1, "seed {seed:#x}: task {id}");
    }
    if !drop_with_tasks_alive {
        assert_eq!(
            metrics.tasks_spawned, world.next_id as u64,
            "seed {seed:#x}"
        );
    }
    drop(world);
    helper.join().unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "Miri: too slow interpreted")]
fn seeded_random_schedules_keep_every_task_invariant() {
    with_deadline(Duration::from_secs(120), || {
        let seeds = [
            0x9E37_79B9_7F4A_7C15,
            0xD1B5_4A32_D192_ED03,
            0x2545_F491_4F6C_DD1D,
            0x8CB9_2BA7_2F3D_8DD7,
            0x0123_4567_89AB_CDEF,
            0xFEDC_BA98_7654_3210,
            0x5851_F42D_4C95_7F2D,
            0x1405_7B7E_F767_814F,
        ];
        for (round, seed) in seeds.into_iter().enumerate() {
            stress_round(seed, round % 2 == 1);
        }
    });
}
