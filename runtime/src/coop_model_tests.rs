//! A randomized model test of the budget's pass rules: one or more tasks,
//! each a join of futures running operations over a few simulated socket
//! directions and sleeps, through the real `coop` functions, called as
//! `IoSource` and `Sleep` call them. Seeded and reproducible; a failure
//! names its seed and shape.
//!
//! Two properties:
//! 1. Bounded polls: a task poll completes at most budget + one per socket
//!    direction + one per own-marked operation (an `async_io` or `ready`
//!    future, a sleep) that found the budget spent in an earlier poll and
//!    is polled again, as `Builder::budget` documents.
//! 2. No starvation: an operation joined after always-ready loops (on the
//!    same or other directions, in the same or other tasks) completes at
//!    the latest at the second poll of its task that polls it: refused
//!    once, it goes ahead at the next.
//!
//! And a third, for free: an operation refused for want of budget wakes
//! its task, so the task is polled again.

use super::*;
use crate::test_rng::Rng;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::task::{Wake, Waker};

/// A waker that counts its wakes.
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// How an operation meets the budget: as one of `IoSource`'s calls, or
/// as a `Sleep`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// A stateless `poll_*` call (`poll_io`, `poll_read_stream`,
    /// `poll_ready`): `poll_spending_if_ready` with the socket
    /// direction's mark only.
    Poll,
    /// `IoSource::async_io` (`accept`, `send_to`, `recv_from`): each wait
    /// through `poll_spending_if_ready` with its own mark, then the
    /// syscall, which may fail with `WouldBlock` and wait again.
    AsyncIo,
    /// `IoSource::ready` (`readable`, `writable`): `poll_spending_if_ready`
    /// with its own mark.
    Ready,
    /// An expired (or expiring) `Sleep`: `poll_proceed_once_refused` with
    /// its own mark.
    Sleep,
    /// A read or write of nothing (`poll_nothing`), which never waits:
    /// with the socket direction's mark only, as a stream's `poll_read`
    /// into an empty buffer calls it.
    Nothing,
}

const KINDS: [Kind; 5] = [
    Kind::Poll,
    Kind::AsyncIo,
    Kind::Ready,
    Kind::Sleep,
    Kind::Nothing,
];

/// One operation: a future of its own, created fresh (a fresh own mark)
/// each time the program starts one.
#[derive(Debug)]
struct Op {
    kind: Kind,
    /// The socket direction (unused for a sleep).
    dir: usize,
    /// `async_io`'s and `ready`'s own mark, or the sleep's.
    own: Refused,
    /// Shadow state for the bound: the last model poll in which this
    /// operation found the budget spent (and so may carry a pass into a
    /// later poll).
    found_spent_at: Option<u64>,
}

impl Op {
    fn new(kind: Kind, dir: usize) -> Op {
        Op {
            kind,
            dir,
            own: Refused::new(),
            found_spent_at: None,
        }
    }
}

/// What the world looks like for one poll of an operation.
struct World<'a> {
    dirs: &'a [Refused],
    /// Whether each direction is ready now (for a sleep: expired).
    ready: &'a dyn Fn(&mut Rng, Kind, usize) -> bool,
    /// `async_io`'s syscall fails with `WouldBlock` this many times in a
    /// hundred although readiness said ready.
    would_block: u64,
    rng: &'a mut Rng,
    poll: u64,
    /// Shadow state for the bound: the last model poll in which an
    /// operation on each direction found the budget spent.
    dir_found_spent_at: &'a mut [Option<u64>],
}

fn budget_left() -> u64 {
    current().budget
}

/// Polls `op` once, exactly as `IoSource` (or `Sleep`) polls it.
/// Returns `Ready` when it completes. Asserts that a `Pending` for want
/// of budget woke the task.
fn poll_op(
    op: &mut Op,
    cx: &mut Context<'_>,
    wakes: &AtomicUsize,
    world: &mut World<'_>,
) -> Poll<()> {
    let spent = budget_left() == 0;
    let wakes_before = wakes.load(Ordering::Relaxed);
    let ready = (world.ready)(world.rng, op.kind, op.dir);
    let dir = &world.dirs[op.dir];
    let mut would_blocked = false;
    let polled = match op.kind {
        Kind::Poll => poll_spending_if_ready(cx, dir, None, |_| {
            if ready {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }),
        Kind::Ready => poll_spending_if_ready(cx, dir, Some(&mut op.own), |_| {
            if ready {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }),
        Kind::AsyncIo => loop {
            // After a `WouldBlock` the registration's readiness is
            // cleared: the next wait is `Pending`.
            let readiness = ready && !would_blocked;
            if budget_left() == 0 {
                op.found_spent_at = Some(world.poll);
                world.dir_found_spent_at[op.dir] = Some(world.poll);
            }
            let waited = poll_spending_if_ready(cx, dir, Some(&mut op.own), |_| {
                if readiness {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            });
            if waited.is_pending() {
                break Poll::Pending;
            }
            if world.rng.chance(world.would_block) {
                would_blocked = true;
                continue;
            }
            break Poll::Ready(());
        },
        Kind::Sleep => {
            if ready {
                poll_proceed_once_refused(cx, &mut op.own)
            } else {
                Poll::Pending
            }
        }
        Kind::Nothing => poll_nothing(cx, dir, None).map(drop),
    };
    if spent {
        op.found_spent_at = Some(world.poll);
        if op.kind != Kind::Sleep {
            world.dir_found_spent_at[op.dir] = Some(world.poll);
        }
    }
    if polled.is_pending() && spent && (ready || op.kind == Kind::Nothing) && !would_blocked {
        assert!(
            wakes.load(Ordering::Relaxed) > wakes_before,
            "{op:?} refused for want of budget without waking its task"
        );
    }
    polled
}

/// One future of a task's join.
#[derive(Debug)]
enum Fut {
    /// `loop { a().await; b().await; ... }`: a fresh operation at each
    /// step (one step: a loop of one operation; two: a proxy's read then
    /// write).
    Loop {
        steps: Vec<(Kind, usize)>,
        /// The step the running operation is at.
        at: usize,
        op: Option<Op>,
    },
    /// `loop { select_all(ops).await }`: a fresh operation per entry each
    /// round, kept across polls until one wins.
    Race {
        entries: Vec<(Kind, usize)>,
        ops: Vec<Op>,
    },
    /// One operation; once done, the next starts after `idle` polls of
    /// the task (a request handler's occasional reply, say).
    Single {
        kind: Kind,
        dir: usize,
        op: Option<Op>,
        /// Polls of the task since the running operation started.
        waited: u32,
        /// Polls of the task left before the next operation starts.
        idle: u32,
        /// The most polls any of its operations waited.
        worst: u32,
        done: u64,
    },
}

/// A task: a join of futures, polled in order at each poll.
struct Task {
    futs: Vec<Fut>,
    waker: Arc<CountingWaker>,
}

/// A model run's shape: what each task runs.
struct Shape {
    seed: u64,
    budget: u64,
    dirs: usize,
    tasks: Vec<Task>,
}

impl std::fmt::Debug for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "seed {} budget {} dirs {}",
            self.seed, self.budget, self.dirs
        )?;
        for (i, task) in self.tasks.iter().enumerate() {
            write!(f, "  task {i}:")?;
            for fut in &task.futs {
                match fut {
                    Fut::Loop { steps, .. } => write!(f, " loop {steps:?};")?,
                    Fut::Race { entries, .. } => write!(f, " race {entries:?};")?,
                    Fut::Single { kind, dir, .. } => write!(f, " single {kind:?}@{dir};")?,
                }
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// The most rounds a loop may run in one poll before the model calls it
/// a loop that never yields.
const RUNAWAY: usize = 10_000;

/// What one task poll did.
struct PollStats {
    completed: u64,
    /// Own-marked operations polled in this poll that found the budget
    /// spent in an earlier one.
    carried: u64,
}

fn note_carried(op: &Op, poll: u64, carried: &mut u64) {
    if !matches!(op.kind, Kind::Poll | Kind::Nothing)
        && op.found_spent_at.is_some_and(|at| at < poll)
    {
        *carried += 1;
    }
}

/// Polls one task once: a fresh budget, then each future of its join in
/// order.
fn poll_task(task: &mut Task, budget: u64, world: &mut World<'_>, shape: &str) -> PollStats {
    reset(budget);
    let waker = Waker::from(Arc::clone(&task.waker));
    let mut cx = Context::from_waker(&waker);
    let wakes = &task.waker.0;
    let mut stats = PollStats {
        completed: 0,
        carried: 0,
    };
    let poll = world.poll;
    for fut in &mut task.futs {
        match fut {
            Fut::Loop { steps, at, op } => {
                let mut rounds = 0;
                loop {
                    rounds += 1;
                    assert!(rounds < RUNAWAY, "a loop never yielded\n{shape}");
                    let (kind, dir) = steps[*at];
                    let running = op.get_or_insert_with(|| Op::new(kind, dir));
                    if rounds == 1 {
                        note_carried(running, poll, &mut stats.carried);
                    }
                    if poll_op(running, &mut cx, wakes, world).is_pending() {
                        break;
                    }
                    stats.completed += 1;
                    *at = (*at + 1) % steps.len();
                    *op = None;
                }
            }
            Fut::Race { entries, ops } => {
                let mut rounds = 0;
                'race: loop {
                    rounds += 1;
                    assert!(rounds < RUNAWAY, "a race never yielded\n{shape}");
                    if ops.is_empty() {
                        ops.extend(entries.iter().map(|&(kind, dir)| Op::new(kind, dir)));
                    }
                    for op in ops.iter_mut() {
                        if rounds == 1 {
                            note_carried(op, poll, &mut stats.carried);
                        }
                        if poll_op(op, &mut cx, wakes, world).is_ready() {
                            stats.completed += 1;
                            ops.clear();
                            continue 'race;
                        }
                    }
                    break;
                }
            }
            Fut::Single {
                kind,
                dir,
                op,
                waited,
                idle,
                worst,
                done,
            } => {
                if op.is_none() {
                    if *idle > 0 {
                        *idle -= 1;
                        continue;
                    }
                    *op = Some(Op::new(*kind, *dir));
                    *waited = 0;
                }
                if let Some(running) = op {
                    note_carried(running, poll, &mut stats.carried);
                    *waited += 1;
                    if poll_op(running, &mut cx, wakes, world).is_ready() {
                        stats.completed += 1;
                        *worst = (*worst).max(*waited);
                        *done += 1;
                        *op = None;
                        *idle = world.rng.index(4) as u32;
                    }
                }
            }
        }
    }
    stats
}

/// A random future: a loop, a race or a single operation, over `dirs`
/// directions.
fn random_loop(rng: &mut Rng, dirs: usize) -> Fut {
    if rng.chance(30) {
        let n = 1 + rng.index(4);
        let entries = (0..n)
            .map(|_| (KINDS[rng.index(KINDS.len())], rng.index(dirs)))
            .collect();
        Fut::Race {
            entries,
            ops: Vec::new(),
        }
    } else {
        let n = if rng.chance(60) { 1 } else { 2 + rng.index(2) };
        Fut::Loop {
            steps: (0..n)
                .map(|_| (KINDS[rng.index(KINDS.len())], rng.index(dirs)))
                .collect(),
            at: 0,
            op: None,
        }
    }
}

fn single(kind: Kind, dir: usize) -> Fut {
    Fut::Single {
        kind,
        dir,
        op: None,
        waited: 0,
        idle: 0,
        worst: 0,
        done: 0,
    }
}

fn random_shape(seed: u64, rng: &mut Rng, singles: bool) -> Shape {
    let budget = 1 + rng.index(8) as u64;
    let dirs = 1 + rng.index(4);
    let mut tasks = Vec::new();
    for _ in 0..1 + rng.index(3) {
        let mut futs = Vec::new();
        for _ in 0..rng.index(4) {
            futs.push(random_loop(rng, dirs));
        }
        if singles {
            for _ in 0..rng.index(3) {
                futs.push(single(KINDS[rng.index(KINDS.len())], rng.index(dirs)));
            }
        }
        tasks.push(Task {
            futs,
            waker: Arc::new(CountingWaker(AtomicUsize::new(0))),
        });
    }
    Shape {
        seed,
        budget,
        dirs,
        tasks,
    }
}

/// How many seeds, and rounds (a poll of each task) per seed: few under
/// Miri. A bound broken shows in any round; a starved operation within a
/// few dozen, so that test runs many short shapes.
fn runs(long: bool) -> (u64, u64) {
    match (cfg!(miri), long) {
        (true, _) => (3, 40),
        (false, true) => (200, 500),
        (false, false) => (2000, 60),
    }
}

#[test]
fn a_task_poll_completes_at_most_the_documented_operations() {
    let (seeds, polls) = runs(true);
    for seed in 1..=seeds {
        let mut rng = Rng::new(seed);
        let mut shape = random_shape(seed, &mut rng, true);
        let dirs: Vec<Refused> = (0..shape.dirs).map(|_| Refused::new()).collect();
        // Each direction ready (each sleep expired) some of the time.
        let percent = [100, 90, 50][rng.index(3)];
        let would_block = [0, 10][rng.index(2)];
        let ready = move |rng: &mut Rng, _: Kind, _: usize| rng.chance(percent);
        let described = format!("{shape:?}");
        let budget = shape.budget;
        let mut dir_found_spent_at = vec![None; shape.dirs];
        let mut poll = 0;
        for _ in 0..polls {
            for task in &mut shape.tasks {
                poll += 1;
                // The directions an operation found the budget spent on in
                // an earlier poll: each may let one more through.
                let dirs_carried =
                    dir_found_spent_at.iter().filter(|at| at.is_some()).count() as u64;
                let mut world = World {
                    dirs: &dirs,
                    ready: &ready,
                    would_block,
                    rng: &mut rng,
                    poll,
                    dir_found_spent_at: &mut dir_found_spent_at,
                };
                let stats = poll_task(task, budget, &mut world, &described);
                assert!(
                    stats.completed <= budget + dirs_carried + stats.carried,
                    "a poll completed {} operations, over budget {budget} + {dirs_carried} \
                     directions + {} operations refused before\n{described}",
                    stats.completed,
                    stats.carried,
                );
            }
        }
    }
    lift();
}

/// The most polls of its task a single operation joined after
/// always-ready loops takes: refused once for want of budget, it goes
/// ahead at the next.
const MOST_POLLS: u32 = 2;

#[test]
fn an_operation_joined_after_always_ready_loops_completes_by_its_tasks_second_poll() {
    let (seeds, polls) = runs(false);
    for seed in 1..=seeds {
        let mut rng = Rng::new(seed);
        let mut shape = random_shape(seed, &mut rng, false);
        // One operation (then another, and so on), joined after the
        // loops of one task.
        let victim = rng.index(shape.tasks.len());
        let kind = KINDS[rng.index(KINDS.len())];
        let dir = rng.index(shape.dirs);
        // Known and documented (RELIABILITY finding 65): a stateless
        // `poll_*` call has no mark of its own, so behind a future of its
        // own task that takes its socket direction's pass at every poll it
        // starves. Not asserted here.
        let takes_its_pass = |fut: &Fut| match fut {
            Fut::Loop { steps, .. } => steps.iter().any(|&(k, d)| k != Kind::Sleep && d == dir),
            Fut::Race { entries, .. } => entries.iter().any(|&(k, d)| k != Kind::Sleep && d == dir),
            Fut::Single { .. } => false,
        };
        if matches!(kind, Kind::Poll | Kind::Nothing)
            && shape.tasks[victim].futs.iter().any(takes_its_pass)
        {
            continue;
        }
        shape.tasks[victim].futs.push(single(kind, dir));
        let dirs: Vec<Refused> = (0..shape.dirs).map(|_| Refused::new()).collect();
        let ready = |_: &mut Rng, _: Kind, _: usize| true;
        let described = format!("{shape:?}");
        let budget = shape.budget;
        let mut dir_found_spent_at = vec![None; shape.dirs];
        let mut poll = 0;
        for _ in 0..polls {
            for task in &mut shape.tasks {
                poll += 1;
                let mut world = World {
                    dirs: &dirs,
                    ready: &ready,
                    would_block: 0,
                    rng: &mut rng,
                    poll,
                    dir_found_spent_at: &mut dir_found_spent_at,
                };
                poll_task(task, budget, &mut world, &described);
            }
            if let Some(Fut::Single {
                waited,
                op: Some(_),
                ..
            }) = shape.tasks[victim].futs.last()
            {
                assert!(
                    *waited <= MOST_POLLS,
                    "the joined {kind:?}@{dir} waited {waited} polls of its task\n{described}"
                );
            }
        }
        if let Some(Fut::Single { worst, done, .. }) = shape.tasks[victim].futs.last() {
            assert!(*done > 0 && *worst <= MOST_POLLS);
        }
    }
    lift();
}
