//! Tasks: random spawn trees aborted, joined and detached at random end
//! exactly once each.

use std::cell::RefCell;
use std::future::Future;
use std::panic::resume_unwind;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use eddy::Handle;
use eddy::task::{JoinError, JoinHandle, yield_now};
use eddy_tests::{CountDrop, XorShift};

use crate::{assert_exercised, mix, poll_up_to, run_seed, seeds};

/// What a task of the tree test returns: its id, and a probe that counts
/// the output's drop.
type TaskOutput = (usize, CountDrop);

/// How deep a spawn tree grows below the main future's tasks.
const MAX_DEPTH: u32 = 3;

/// What one task of a spawn tree did, and what happened to it.
#[derive(Debug, Default)]
struct TaskRecord {
    /// Drops of the task's future (a probe it owns from its creation).
    future_drops: Arc<AtomicUsize>,
    /// Drops of the task's output.
    output_drops: Arc<AtomicUsize>,
    /// The body ran to its end (set in the poll that returns).
    completed: bool,
    /// Another task, or the main future, aborted it before it completed.
    aborted_pending: bool,
    /// It aborted itself.
    aborted_itself: bool,
    /// Code after its own abort and a suspension ran (must never happen).
    ran_past_own_abort: bool,
    /// Some holder of its handle saw its outcome.
    outcome_seen: bool,
}

/// What the task test did, summed over its seeds.
#[derive(Clone, Copy, Debug, Default)]
struct TaskTally {
    /// Aborts of tasks that had not completed, from another task or main.
    aborts_pending: u64,
    /// Aborts of tasks that had completed (no-ops).
    aborts_finished: u64,
    /// Tasks that aborted themselves and then suspended.
    self_aborts_suspended: u64,
    /// Tasks that aborted themselves and returned in the same poll.
    self_aborts_returned: u64,
    /// Handles polled once while pending, then dropped.
    handles_polled_then_dropped: u64,
    /// Handles dropped unpolled (detached).
    handles_detached: u64,
    /// Outcomes seen that were a cancelled `JoinError`.
    cancelled: u64,
    /// Outcomes seen that were a value.
    values: u64,
    /// Tasks spawned from the drop of another task's future.
    spawns_from_drop: u64,
}

impl TaskTally {
    /// Adds `other`'s counts to these.
    fn add(&mut self, other: TaskTally) {
        self.aborts_pending += other.aborts_pending;
        self.aborts_finished += other.aborts_finished;
        self.self_aborts_suspended += other.self_aborts_suspended;
        self.self_aborts_returned += other.self_aborts_returned;
        self.handles_polled_then_dropped += other.handles_polled_then_dropped;
        self.handles_detached += other.handles_detached;
        self.cancelled += other.cancelled;
        self.values += other.values;
        self.spawns_from_drop += other.spawns_from_drop;
    }
}

/// Every task of one seed's spawn trees: its record, and its handle while
/// nobody has taken it (to join, detach or poll). Shared by the main future
/// and every task, any of which may act on any task.
#[derive(Debug)]
struct Forest {
    /// The seed, for messages and the tasks' own random streams.
    seed: u64,
    /// One record per task, by id.
    records: RefCell<Vec<TaskRecord>>,
    /// One handle per task, by id, until someone takes it.
    handles: RefCell<Vec<Option<JoinHandle<TaskOutput>>>>,
    /// What happened so far.
    tally: RefCell<TaskTally>,
}

impl Forest {
    /// Spawns a task at `depth` of a tree and files its handle; returns its
    /// id.
    fn spawn(self: &Rc<Forest>, depth: u32) -> usize {
        let (id, future_drops) = {
            let mut records = self.records.borrow_mut();
            records.push(TaskRecord::default());
            (
                records.len() - 1,
                Arc::clone(&records.last().unwrap().future_drops),
            )
        };
        self.handles.borrow_mut().push(None);
        // The probe and the drop action are moved into the future as it is
        // built, so they see the drop of a future aborted before its first
        // poll too.
        let on_drop = ActsOnDrop {
            forest: Rc::clone(self),
            id,
            depth,
        };
        let handle = eddy::spawn(tree_task(
            Rc::clone(self),
            id,
            depth,
            CountDrop(future_drops),
            on_drop,
        ));
        self.handles.borrow_mut()[id] = Some(handle);
        id
    }

    /// A random task id, if any task was spawned.
    fn random_id(&self, rng: &mut XorShift) -> Option<usize> {
        let count = self.records.borrow().len();
        (count > 0).then(|| rng.index(count))
    }

    /// Aborts task `target` through its filed handle, if the handle is
    /// filed, recording whether it had completed. `target` is never the
    /// calling task's own (see [`abort_self`](Forest::abort_self)), except
    /// from an [`ActsOnDrop`], once the task's body is over.
    fn abort(&self, target: usize) {
        let handles = self.handles.borrow();
        let Some(handle) = handles[target].as_ref() else {
            return;
        };
        let mut records = self.records.borrow_mut();
        let mut tally = self.tally.borrow_mut();
        if records[target].completed {
            tally.aborts_finished += 1;
        } else {
            records[target].aborted_pending = true;
            tally.aborts_pending += 1;
        }
        handle.abort();
    }

    /// Task `id` aborts itself through its filed handle; false if the
    /// handle is not filed (someone took it).
    fn abort_self(&self, id: usize) -> bool {
        let handles = self.handles.borrow();
        let Some(handle) = handles[id].as_ref() else {
            return false;
        };
        self.records.borrow_mut()[id].aborted_itself = true;
        handle.abort();
        true
    }

    /// Takes task `target`'s handle out of the file, if it is there.
    fn take(&self, target: usize) -> Option<JoinHandle<TaskOutput>> {
        self.handles.borrow_mut()[target].take()
    }

    /// Takes task `target`'s handle and awaits it, checking the outcome.
    async fn join(&self, target: usize) {
        if let Some(handle) = self.take(target) {
            let outcome = handle.await;
            self.check_outcome(target, outcome);
        }
    }

    /// Takes task `target`'s handle, polls it once, and if it is pending
    /// either files it again or drops it (`drop_it`): a join cancelled
    /// after its waker was registered.
    async fn poll_handle_once(&self, target: usize, drop_it: bool) {
        let Some(mut handle) = self.take(target) else {
            return;
        };
        match poll_up_to(Pin::new(&mut handle), 1).await {
            Some(outcome) => self.check_outcome(target, outcome),
            None if drop_it => {
                self.tally.borrow_mut().handles_polled_then_dropped += 1;
                drop(handle);
            }
            None => self.handles.borrow_mut()[target] = Some(handle),
        }
    }

    /// Takes task `target`'s handle and drops it unpolled: the task runs
    /// on, detached.
    fn detach(&self, target: usize) {
        if let Some(handle) = self.take(target) {
            self.tally.borrow_mut().handles_detached += 1;
            drop(handle);
        }
    }

    /// Checks task `target`'s outcome against its record: exactly one
    /// outcome per task, a value only from a task that completed and that
    /// nobody else aborted first, a cancellation only of a task that did not
    /// complete and that was aborted. Re-raises a task's panic (a failed
    /// check inside it).
    fn check_outcome(&self, target: usize, outcome: Result<TaskOutput, JoinError>) {
        let seed = self.seed;
        let mut records = self.records.borrow_mut();
        let record = &mut records[target];
        assert!(
            !record.outcome_seen,
            "seed {seed:#x}: task {target}'s outcome seen twice"
        );
        record.outcome_seen = true;
        match outcome {
            Ok((value, output_probe)) => {
                assert_eq!(
                    value, target,
                    "seed {seed:#x}: a task returned another's id"
                );
                assert!(
                    record.completed && !record.aborted_pending,
                    "seed {seed:#x}: task {target} returned a value, but {record:?}"
                );
                drop(output_probe);
                self.tally.borrow_mut().values += 1;
            }
            Err(error) if error.is_panic() => {
                drop(records);
                resume_unwind(error.into_panic());
            }
            Err(error) => {
                assert!(error.is_cancelled(), "seed {seed:#x}: {error}");
                assert!(
                    !record.completed && (record.aborted_pending || record.aborted_itself),
                    "seed {seed:#x}: task {target} was cancelled, but {record:?}"
                );
                self.tally.borrow_mut().cancelled += 1;
            }
        }
    }

    /// Checks what holds between any two steps: no future or output dropped
    /// twice, no code run past a task's own abort, and no more live tasks
    /// than futures not yet dropped.
    fn check_invariants(&self, step: usize) {
        let seed = self.seed;
        let records = self.records.borrow();
        let mut undropped = 0;
        for (id, record) in records.iter().enumerate() {
            let future_drops = record.future_drops.load(Ordering::SeqCst);
            let output_drops = record.output_drops.load(Ordering::SeqCst);
            assert!(
                future_drops <= 1 && output_drops <= 1 && !record.ran_past_own_abort,
                "seed {seed:#x} step {step}: task {id}: future dropped {future_drops} times, \
                 output {output_drops} times, {record:?}"
            );
            undropped += usize::from(future_drops == 0);
        }
        let alive = Handle::current().metrics().tasks_alive;
        assert!(
            alive <= undropped,
            "seed {seed:#x} step {step}: {alive} tasks alive, {undropped} futures not dropped"
        );
    }
}

/// The body of task `id` at `depth` of a spawn tree: up to five random
/// steps, each a spawn, a yield, an abort of another task, a join of a
/// later task (later only, so no two tasks join each other), a detach, a
/// handle polled once, or an abort of itself followed by a suspension (it
/// must stop there) or by returning in the same poll (it must complete).
/// Boxed: it spawns itself.
fn tree_task(
    forest: Rc<Forest>,
    id: usize,
    depth: u32,
    probe: CountDrop,
    on_drop: ActsOnDrop,
) -> Pin<Box<dyn Future<Output = TaskOutput>>> {
    Box::pin(async move {
        let _probe = probe;
        let _on_drop = on_drop;
        let mut rng = XorShift(mix(forest.seed, 1_000 + id as u64));
        for _ in 0..rng.below(6) {
            let other = forest.random_id(&mut rng).filter(|&other| other != id);
            match rng.below(100) {
                0..=24 if depth < MAX_DEPTH => {
                    forest.spawn(depth + 1);
                }
                25..=44 => yield_now().await,
                45..=56 => {
                    if let Some(other) = other {
                        forest.abort(other);
                    }
                }
                57..=66 => {
                    let count = forest.records.borrow().len();
                    if count > id + 1 {
                        forest.join(id + 1 + rng.index(count - id - 1)).await;
                    }
                }
                67..=70 => {
                    if let Some(other) = other {
                        forest.detach(other);
                    }
                }
                71..=76 => {
                    if let Some(other) = other {
                        forest.poll_handle_once(other, rng.below(2) == 0).await;
                    }
                }
                77..=80 => {
                    if forest.abort_self(id) {
                        forest.tally.borrow_mut().self_aborts_suspended += 1;
                        yield_now().await;
                        forest.records.borrow_mut()[id].ran_past_own_abort = true;
                    }
                }
                81..=83 => {
                    if forest.abort_self(id) {
                        forest.tally.borrow_mut().self_aborts_returned += 1;
                        break;
                    }
                }
                _ => {
                    for _ in 0..rng.below(4) {
                        yield_now().await;
                    }
                }
            }
        }
        let mut records = forest.records.borrow_mut();
        records[id].completed = true;
        (id, CountDrop(Arc::clone(&records[id].output_drops)))
    })
}

/// Owned by a tree task's future from its creation: when the future is
/// dropped (at the end of the body, or by the runtime after an abort,
/// polled or not), acts on the forest as a step would, from inside the
/// runtime's drop of a task: aborts a random task (itself included: a
/// no-op, as its body is over), spawns a child, or detaches a handle.
#[derive(Debug)]
struct ActsOnDrop {
    /// The forest to act on.
    forest: Rc<Forest>,
    /// The id of the task whose future this is.
    id: usize,
    /// That task's depth in its tree.
    depth: u32,
}

impl Drop for ActsOnDrop {
    fn drop(&mut self) {
        let forest = &self.forest;
        let mut rng = XorShift(mix(forest.seed, 500_000 + self.id as u64));
        match rng.below(8) {
            0 | 1 => {
                if let Some(target) = forest.random_id(&mut rng) {
                    forest.abort(target);
                }
            }
            2 if self.depth < MAX_DEPTH => {
                forest.spawn(self.depth + 1);
                forest.tally.borrow_mut().spawns_from_drop += 1;
            }
            3 => {
                if let Some(target) = forest.random_id(&mut rng) {
                    forest.detach(target);
                }
            }
            _ => {}
        }
    }
}

/// One seed of the task test: the main future spawns trees and acts on
/// random tasks, then joins every handle still filed, waits for the
/// detached tasks, and checks every record and the live-task gauge.
async fn task_round(seed: u64) -> TaskTally {
    const STEPS: usize = 400;
    let forest = Rc::new(Forest {
        seed,
        records: RefCell::new(Vec::new()),
        handles: RefCell::new(Vec::new()),
        tally: RefCell::new(TaskTally::default()),
    });
    let mut rng = XorShift(mix(seed, 1));
    for step in 0..STEPS {
        match rng.below(100) {
            0..=24 => {
                forest.spawn(0);
            }
            25..=39 => {
                if let Some(target) = forest.random_id(&mut rng) {
                    forest.abort(target);
                }
            }
            40..=54 => {
                if let Some(target) = forest.random_id(&mut rng) {
                    forest.join(target).await;
                }
            }
            55..=59 => {
                if let Some(target) = forest.random_id(&mut rng) {
                    forest.detach(target);
                }
            }
            60..=69 => {
                if let Some(target) = forest.random_id(&mut rng) {
                    forest.poll_handle_once(target, rng.below(2) == 0).await;
                }
            }
            _ => {
                for _ in 0..1 + rng.below(3) {
                    yield_now().await;
                }
            }
        }
        forest.check_invariants(step);
    }
    // Join every handle still filed, and wait for the tasks nobody joins
    // (detached, or whose joiner was aborted): they end by themselves, as
    // they only spawn, yield and act on others. Tasks that end may spawn
    // and file new ones, so repeat until none is alive and none filed.
    let mut turns = 0;
    loop {
        let filed = forest.handles.borrow().iter().position(Option::is_some);
        if let Some(target) = filed {
            forest.join(target).await;
        } else if Handle::current().metrics().tasks_alive > 0 {
            turns += 1;
            assert!(
                turns < 100_000,
                "seed {seed:#x}: tasks still alive after {turns} yields: {:?}",
                Handle::current().metrics()
            );
            yield_now().await;
        } else {
            break;
        }
    }
    forest.check_invariants(STEPS);
    for (id, record) in forest.records.borrow().iter().enumerate() {
        let future_drops = record.future_drops.load(Ordering::SeqCst);
        let output_drops = record.output_drops.load(Ordering::SeqCst);
        assert_eq!(
            future_drops, 1,
            "seed {seed:#x}: task {id}'s future dropped {future_drops} times: {record:?}"
        );
        assert_eq!(
            output_drops,
            usize::from(record.completed),
            "seed {seed:#x}: task {id}'s output dropped {output_drops} times: {record:?}"
        );
    }
    assert_eq!(Handle::current().metrics().tasks_alive, 0, "seed {seed:#x}");
    *forest.tally.borrow()
}

#[test]
fn tasks_aborted_joined_and_detached_at_random_end_exactly_once() {
    let mut total = TaskTally::default();
    for seed in seeds(64) {
        total.add(run_seed(seed, task_round));
    }
    assert_exercised(total.aborts_pending, "an abort of a pending task");
    assert_exercised(total.aborts_finished, "an abort of a finished task");
    assert_exercised(
        total.self_aborts_suspended,
        "a self-abort, then a suspension",
    );
    assert_exercised(total.self_aborts_returned, "a self-abort, then a return");
    assert_exercised(
        total.handles_polled_then_dropped,
        "a handle polled, then dropped",
    );
    assert_exercised(total.handles_detached, "a detached handle");
    assert_exercised(total.cancelled, "a cancelled outcome");
    assert_exercised(total.values, "a value outcome");
    assert_exercised(total.spawns_from_drop, "a spawn from a future's drop");
}
