//! The runtime's own state and its event loop, on the runtime thread only.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use eddy_registration::FirstPanic;
use futures_task::waker_ref;
use slab::Slab;

use super::{Config, MainWaker, Shared, context};
use crate::coop;
#[cfg(unix)]
use crate::signal::HubSlot;
use crate::task::{JoinHandle, RunOutcome, Runnable, TaskCell, UninitTask};
use crate::time::timer_request::TimerRequest;
use crate::time::timers::Timers;

// The runtime's drop, in a file of its own: a child module, so it reaches
// the fields the loop keeps private.
mod shutdown;

/// Everything the runtime thread owns. Interior mutability (`Cell`,
/// `RefCell`) because tasks reach the core through the thread-local context
/// while the loop itself holds `&Core`; every borrow is short and never
/// spans a call into user code.
#[derive(Debug)]
pub(crate) struct Core {
    /// What other threads can reach.
    shared: Arc<Shared>,
    /// Tasks ready to be polled, in wake order (round-robin).
    queue: RefCell<VecDeque<Arc<dyn Runnable>>>,
    /// Every live task, so shutdown can drop them all.
    tasks: RefCell<Slab<Arc<dyn Runnable>>>,
    /// Wakers to wake after the next driver turn (`yield_now`).
    deferred: RefCell<Vec<Waker>>,
    /// The last `deferred` batch, kept to reuse its allocation.
    deferred_spare: RefCell<Vec<Waker>>,
    /// Buffer the remote queue is swapped into, kept to reuse its allocation.
    adopted: RefCell<Vec<Arc<dyn Runnable>>>,
    /// Pending sleeps and timeouts, in a hierarchical timing wheel
    /// (`time/timers.rs`): sorted by millisecond, not kept in deadline
    /// order (that is worked out as a millisecond's timers fire).
    timers: RefCell<Timers>,
    /// Wakers of timers that just fired, kept to reuse its allocation.
    fired: RefCell<Vec<Waker>>,
    /// The reactor. Only the loop borrows it, for one `turn` at a time.
    driver: RefCell<eddy_io_driver::Driver>,
    /// Event interval, budget and the other tunables.
    config: Config,
    /// Set when shutdown starts: spawns from then on are cancelled at once.
    shutting_down: Cell<bool>,
    /// Polls (tasks and the `block_on` future) since the driver last
    /// turned; at `event_interval` the loop turns it without blocking.
    polls_since_turn: Cell<u32>,
    /// The signal listeners' shared copy of the signal pipe, while there
    /// are any: one descriptor per runtime, not one per listener.
    #[cfg(unix)]
    signal_hub: HubSlot,
}

impl Core {
    pub(crate) fn new(shared: Arc<Shared>, driver: eddy_io_driver::Driver, config: Config) -> Core {
        // What can panic (a clock read, the allocations) comes first, into
        // locals: a panic among the fields of the literal below made every
        // field built before it a cleanup in this function, and the drop
        // glue of those `RefCell`s a second copy in this codegen unit
        // (1.4 KB of the echo example).
        let timers = Timers::new();
        let queue = VecDeque::with_capacity(256);
        let tasks = Slab::with_capacity(64);
        Core {
            shared,
            queue: RefCell::new(queue),
            tasks: RefCell::new(tasks),
            deferred: RefCell::new(Vec::new()),
            deferred_spare: RefCell::new(Vec::new()),
            adopted: RefCell::new(Vec::new()),
            timers: RefCell::new(timers),
            fired: RefCell::new(Vec::new()),
            driver: RefCell::new(driver),
            config,
            shutting_down: Cell::new(false),
            polls_since_turn: Cell::new(0),
            #[cfg(unix)]
            signal_hub: HubSlot::default(),
        }
    }

    /// Where this runtime's signal listeners find their hub.
    #[cfg(unix)]
    pub(crate) fn signal_hub(&self) -> &HubSlot {
        &self.signal_hub
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Whether this core runs the runtime `shared` belongs to.
    #[inline]
    pub(crate) fn runs(&self, shared: &Shared) -> bool {
        std::ptr::eq(&*self.shared, shared)
    }

    pub(crate) fn shared_arc(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Spawns a future on this runtime (called on its thread).
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        let task = TaskCell::init(UninitTask::allocate(), future, self.shared.clone());
        // SAFETY: built just now, for this runtime, and published nowhere.
        unsafe { self.spawn_task(task) }
    }

    /// Adopts a task that `eddy::spawn` or `Handle::spawn` built (they make
    /// the task themselves so that its future is copied as few times as
    /// possible; see `UninitTask`).
    ///
    /// # Safety
    ///
    /// `task` must have been built for this runtime (its header's `Shared`
    /// is this core's: wakes go to that runtime's queues, and a `!Send`
    /// future must never be polled on another thread) and published
    /// nowhere yet (no queue, no waker), so that cancelling it here is the
    /// only thing that can happen to it.
    pub(crate) unsafe fn spawn_task<F>(&self, task: Arc<TaskCell<F>>) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        debug_assert!(self.runs(&task.header().shared));
        if self.shutting_down.get() {
            // SAFETY: we are on the runtime thread (`&Core` is only reachable
            // there), and the task was never published.
            unsafe { task.cancel() };
            return JoinHandle::new(task);
        }
        self.adopt(task.clone());
        JoinHandle::new(task)
    }

    /// Gives a task a slab slot and queues it for its first poll.
    fn adopt(&self, task: Arc<dyn Runnable>) {
        let key = self.tasks.borrow_mut().insert(task.clone());
        task.header().set_key(key);
        self.queue.borrow_mut().push_back(task);
        self.shared.metrics().task_spawned();
        crate::trace::task_spawned(key);
    }

    /// The local fast path of a wake. Fails only if the queue is borrowed,
    /// which the loop never does across user code; the caller then falls
    /// back to the remote queue.
    #[inline]
    pub(crate) fn push_local(&self, task: Arc<dyn Runnable>) -> Result<(), Arc<dyn Runnable>> {
        match self.queue.try_borrow_mut() {
            Ok(mut queue) => {
                crate::trace::task_woken(|| task.header().key(), false);
                queue.push_back(task);
                Ok(())
            }
            Err(_) => Err(task),
        }
    }

    pub(crate) fn defer(&self, waker: &Waker) {
        // Cloned before the borrow: a foreign waker's clone that yields
        // panicked "already borrowed" under it (15).
        let waker = waker.clone();
        self.deferred.borrow_mut().push(waker);
    }

    /// Runs `f` with the timers, or `None` if they are borrowed already:
    /// no waker runs inside that borrow, but a global allocator (the store
    /// growing) or a panic hook does, and may drop or reset a sleep.
    pub(crate) fn try_with_timers<R>(&self, f: impl FnOnce(&mut Timers) -> R) -> Option<R> {
        let mut timers = self.timers.try_borrow_mut().ok()?;
        Some(f(&mut timers))
    }

    /// Runs `future` to completion on this thread, driving every task,
    /// timer and socket of the runtime meanwhile.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        assert!(
            !context::is_inside_runtime(),
            "cannot start an eddy runtime from within a runtime: \
             `block_on` would block the thread the outer runtime runs on"
        );
        // SAFETY: a local of this frame, which borrows `self`, dropped when
        // it returns or unwinds, after any guard made inside it.
        let _guard = unsafe { context::enter(self) };
        // Dropped before `_guard`, after the future: publishes the timer
        // count as this call ends, by returning or by unwinding.
        let _publish = PublishOnExit(self);
        if self.shared.has_timer_requests() {
            // Applied now, or a future ready at its first poll, which never
            // reaches a turn, left them queued (rule 9; time rule 4,
            // RELIABILITY finding 16).
            let live = self.fire_timers();
            self.shared.metrics().set_timers_live(live);
        }
        self.run_until_ready(future)
    }

    /// `block_on`'s loop: polls `future` whenever its waker was woken, and
    /// turns the runtime in between, until the future is ready.
    #[inline(always)]
    fn run_until_ready<F: Future>(&self, future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let main = Arc::new(MainWaker::new(self.shared.clone()));
        let waker = waker_ref(&main);
        let mut cx = Context::from_waker(&waker);
        // Whether the main future is at its first poll (a new `MainWaker`
        // starts notified): ready there, it still gives everything else a
        // round before `block_on` returns (see `round_without_waiting`).
        // Cleared after a pending poll rather than at each tick, so the loop
        // a server spends its life in stores nothing: the echo round trip
        // costs what it did with the first poll peeled off the loop, and a
        // main future that yields or joins tasks costs 29 and 5 instructions
        // less per poll than with it (callgrind: the peeled copy of the
        // inlined future's poll made the loop's code worse).
        let mut first_poll = true;
        loop {
            if main.take_notified() {
                if let Poll::Ready(output) = self.poll_main(future.as_mut(), &mut cx) {
                    if first_poll {
                        self.round_without_waiting(&main);
                    }
                    return output;
                }
                first_poll = false;
            }
            self.tick(&main);
        }
    }

    /// Polls the `block_on` future once; if it is still pending and this
    /// poll used up the event interval, polls one queued task too.
    #[inline(always)]
    fn poll_main<F: Future>(&self, future: Pin<&mut F>, cx: &mut Context<'_>) -> Poll<F::Output> {
        coop::reset(u64::from(self.config.budget));
        // Counted toward the event interval, or a main future that keeps
        // waking itself starved timers and sockets (rule 6, finding 4);
        // saturating, or a debug build's loop of `block_on` calls that
        // never turn the driver overflowed it (38).
        let polls = self.polls_since_turn.get().saturating_add(1);
        self.polls_since_turn.set(polls);
        crate::trace::main_polled();
        let poll = future.poll(cx);
        if poll.is_pending() && polls >= self.config.event_interval {
            // `tick` will poll no task, or with `event_interval(1)` a main
            // future that kept waking itself starved every task (9).
            self.poll_one_task();
        }
        poll
    }

    /// The round a `block_on` call gives everything else when its future
    /// was ready at its first poll: one `tick`, which polls up
    /// to `event_interval` queued tasks and adopts what other threads
    /// queued, and here always turns the driver without waiting (timers,
    /// sockets, `yield_now`), since a deferred wake is pending. Without it
    /// such a call ran no task, spawned here or by another thread (rule 9,
    /// RELIABILITY finding 35).
    ///
    /// Through `tick` rather than its parts: with a second caller, the
    /// compiler stopped inlining `turn` and `adopt_remote` into `tick`,
    /// which cost the echo server 22 instructions per round trip (and
    /// adopting ahead of the tick, 1). So a task that `Handle::spawn`
    /// queued between two such calls is adopted by the first and polled
    /// by the second.
    #[cold]
    #[inline(never)]
    fn round_without_waiting(&self, main: &MainWaker) {
        // Nothing a round could run: no task here, none queued by another
        // thread. The plain embedding call (`block_on` of some work, with
        // nothing spawned) then still costs no driver turn, no syscall.
        if self.tasks.borrow().is_empty() && !self.shared.has_remote() {
            return;
        }
        if self.polls_since_turn.get() >= self.config.event_interval {
            // The main future's poll used up the interval, and `tick` would
            // poll no task: as after a pending poll that did (`poll_main`).
            self.poll_one_task();
        }
        self.defer(Waker::noop());
        self.tick(main);
    }

    /// One round of the loop: run up to `event_interval` tasks, adopt remote
    /// ones, and turn the driver when the interval is used up or there is
    /// nothing else to do.
    fn tick(&self, main: &MainWaker) {
        let interval = self.config.event_interval;
        // Kept in a local while tasks run (nothing they can reach reads it),
        // and written back once.
        let start = self.polls_since_turn.get();
        let mut polls = start;
        while polls < interval {
            let Some(task) = self.queue.borrow_mut().pop_front() else {
                break;
            };
            polls += 1;
            // A waker's panic ends the round inside: still counted
            // (finding 79).
            self.run_task(task, move || self.end_round_before_panic(start, polls));
        }
        self.end_round(start, polls);
        if self.shared.has_remote() {
            self.adopt_remote();
        }

        let has_deferred = !self.deferred.borrow().is_empty();
        let has_work = main.is_notified() || !self.queue.borrow().is_empty();
        if has_work && !has_deferred && polls < interval {
            // Work is waiting and the driver was turned recently enough.
            return;
        }
        self.turn(has_work || has_deferred);
    }

    /// Writes back the poll count `tick` kept in a local, and adds the
    /// round's polls to the metrics.
    #[inline(always)]
    fn end_round(&self, start: u32, polls: u32) {
        self.polls_since_turn.set(polls);
        if polls > start {
            self.shared.metrics().polled(u64::from(polls - start));
        }
    }

    /// [`end_round`](Core::end_round) for a round a waker's panic ends:
    /// out of line, so the task loop carries none of it.
    #[cold]
    #[inline(never)]
    fn end_round_before_panic(&self, start: u32, polls: u32) {
        self.end_round(start, polls);
    }

    /// Polls the next queued task, if any, counting it toward the event
    /// interval: the one task a round polls even when the `block_on`
    /// future's own poll used up the interval.
    #[cold]
    #[inline(never)]
    fn poll_one_task(&self) {
        let Some(task) = self.queue.borrow_mut().pop_front() else {
            return;
        };
        // Saturating: with `event_interval(u32::MAX)` the count can already
        // be `u32::MAX` here, and `tick` turns the driver next either way.
        self.polls_since_turn
            .set(self.polls_since_turn.get().saturating_add(1));
        self.shared.metrics().polled(1);
        self.run_task(task, || {});
    }

    /// Polls one task and forgets it if it finished. If a waker its
    /// completion woke (a `JoinHandle`'s, foreign code) panicked, runs
    /// `before_panic` (the caller's count of the round) and resumes the
    /// panic: only on that cold path, so a poll pays nothing for it.
    ///
    /// `inline(always)`: with a second, cold caller (`poll_one_task`) the
    /// compiler stopped inlining it into `tick`, which cost the echo
    /// server 13 instructions per round trip (843 -> 856).
    #[inline(always)]
    fn run_task(&self, task: Arc<dyn Runnable>, before_panic: impl FnOnce()) {
        coop::reset(u64::from(self.config.budget));
        // SAFETY: runtime thread (`Runtime` is neither `Send` nor `Sync`);
        // one task at a time, never re-entered from inside a poll, so no
        // other `run` or `cancel` of this task is in progress.
        let outcome = unsafe { task.run() };
        if let RunOutcome::Finished(key, waker_panic) = outcome {
            if let Some(key) = key {
                let removed = self.tasks.borrow_mut().try_remove(key);
                self.shared.metrics().task_finished();
                crate::trace::task_finished(key);
                drop(removed);
            }
            if let Some(payload) = waker_panic {
                before_panic();
                std::panic::resume_unwind(payload);
            }
        }
    }

    /// Moves remotely woken or spawned tasks onto the local queue.
    fn adopt_remote(&self) {
        let mut adopted = self.adopted.take();
        self.shared.take_remote(&mut adopted);
        for task in adopted.drain(..) {
            if task.header().key().is_some() {
                self.queue.borrow_mut().push_back(task);
            } else if self.shutting_down.get() {
                // SAFETY: runtime thread (`&Core` is only reachable there),
                // and the task was never adopted, so it was never run.
                unsafe { task.cancel() };
            } else {
                self.adopt(task);
            }
        }
        *self.adopted.borrow_mut() = adopted;
    }

    /// Turns the driver, then fires due timers and deferred wakers. With
    /// `has_work` the turn only collects events (zero timeout); otherwise it
    /// blocks until the next timer is due, or forever if there is none.
    fn turn(&self, has_work: bool) {
        self.polls_since_turn.set(0);
        let timeout = {
            let timers = self.timers.borrow();
            // Published before the turn, or a reader elsewhere saw a stale
            // count for as long as the runtime parked (rule 8, time rule
            // 11, RELIABILITY finding 26).
            self.shared.metrics().set_timers_live(timers.len());
            if has_work {
                Some(Duration::ZERO)
            } else {
                timers
                    .next_deadline()
                    .map(|deadline| deadline.saturating_duration_since(Instant::now()))
            }
        };
        let turned = self.driver.borrow_mut().turn(timeout);
        match turned {
            Ok(stats) => {
                self.shared.metrics().turned(stats.events);
                crate::trace::driver_turned(timeout, &stats);
            }
            // A signal interrupting the wait (EINTR) comes back as a turn
            // with no events, not an error; an error here means the poller
            // fd is unusable and no progress is possible.
            Err(error) => panic!("eddy: the I/O driver failed: {error}"),
        }
        // A server with no timers pays a single borrow here.
        if !self.timers.borrow().is_empty() {
            let timers_live = self.fire_timers();
            self.shared.metrics().set_timers_live(timers_live);
        }
        self.wake_deferred();
    }

    /// Applies the queued timer requests, then wakes every timer whose
    /// deadline passed, after the timers' borrow ends and each in one panic
    /// batch (time rules 4 to 6). Returns how many timers are still pending.
    fn fire_timers(&self) -> usize {
        let now = Instant::now();
        // Most turns fire nothing and apply no request: answer from one
        // borrow, without moving the wakers' buffer in and out or setting
        // up the panic batch (about 60 instructions a turn, callgrind).
        if !self.shared.has_timer_requests() {
            let timers = self.timers.borrow();
            if !timers.needs_drain(now) {
                return timers.len();
            }
        }
        let mut fired = self.fired.take();
        // One batch for the requests' waker drops and the wakes: a foreign
        // waker that panics in either stops none of the others, and its
        // panic goes on once every timer has been handled.
        let mut panics = FirstPanic::new();
        if self.shared.has_timer_requests() {
            self.apply_timer_requests(&mut fired, &mut panics);
        }
        let live = {
            let mut timers = self.timers.borrow_mut();
            timers.drain_expired(now, &mut fired);
            timers.len()
        };
        crate::trace::timers_fired(fired.len());
        // A request applied but nothing fired: skip the empty drain.
        if !fired.is_empty() {
            wake_each(&mut fired, &mut panics);
            // A burst of a million simultaneous deadlines must not pin a
            // 16 MB buffer for the life of the runtime.
            fired.shrink_to(1024);
        }
        *self.fired.borrow_mut() = fired;
        panics.resume();
        live
    }

    /// Applies what sleeps dropped or reset off this runtime (or inside its
    /// borrow of the timers) asked of its timers (time rules 3 and 4), before
    /// any of them fires: a cancelled entry's waker is dropped once the
    /// borrow has ended (in `panics`' batch), a moved one's is added to
    /// `woken`, which `fire_timers` wakes.
    #[cold]
    fn apply_timer_requests(&self, woken: &mut Vec<Waker>, panics: &mut FirstPanic) {
        let mut requests = Vec::new();
        self.shared.take_timer_requests(&mut requests);
        for request in requests {
            match request {
                TimerRequest::Cancel(key) => {
                    // The borrow ends with the statement, before the drop,
                    // which is foreign code: a panic there must not lose
                    // the requests after it.
                    let waker = self.timers.borrow_mut().cancel(key);
                    panics.run(|| drop(waker));
                }
                TimerRequest::Wake(key) => {
                    woken.extend(self.timers.borrow_mut().cancel(key));
                }
            }
        }
    }

    fn wake_deferred(&self) {
        if self.deferred.borrow().is_empty() {
            return;
        }
        let mut batch = self.deferred_spare.take();
        std::mem::swap(&mut batch, &mut *self.deferred.borrow_mut());
        wake_all(&mut batch);
        *self.deferred_spare.borrow_mut() = batch;
    }

    /// Publishes the one gauge that lives in a `RefCell` (the timer
    /// count) for readers on other threads.
    pub(crate) fn publish_metrics(&self) {
        self.shared
            .metrics()
            .set_timers_live(self.timers.borrow().len());
    }
}

/// Publishes the timer count when `block_on` ends, whether it returns or
/// unwinds (a panic in its future or a waker): the future is dropped by
/// then, and its drop removed the timers it still held (a `Timeout` whose
/// future won keeps its sleep), so the count read between `block_on`
/// calls, where `Handle::metrics` cannot reach the timers, leaves them out
/// (RELIABILITY finding 78).
struct PublishOnExit<'a>(&'a Core);

impl Drop for PublishOnExit<'_> {
    fn drop(&mut self) {
        self.0.publish_metrics();
    }
}

/// Wakes every waker in `batch`, leaving it empty. A waker that panics
/// (a foreign one; eddy's never do) does not stop the others, whose timers
/// or yields were already taken out and would otherwise never be woken;
/// the first panic is resumed once all are woken.
fn wake_all(batch: &mut Vec<Waker>) {
    let mut panics = FirstPanic::new();
    wake_each(batch, &mut panics);
    panics.resume();
}

/// `wake_all` inside a batch the caller resumes.
fn wake_each(batch: &mut Vec<Waker>, panics: &mut FirstPanic) {
    for waker in batch.drain(..) {
        panics.run(|| waker.wake());
    }
}

#[cfg(test)]
mod tests {
    use crate::Runtime;

    #[test]
    fn the_poll_count_saturates_in_a_block_on_loop_that_never_turns_the_driver() {
        let rt = Runtime::new().unwrap();
        // Where 2^32 - 1 calls of `block_on(async {})` leave the count: they
        // spawn nothing, so no call turns the driver and nothing resets it.
        rt.core().polls_since_turn.set(u32::MAX - 1);
        for _ in 0..3 {
            rt.block_on(async {});
        }
        assert_eq!(rt.core().polls_since_turn.get(), u32::MAX);
        // And the runtime still runs tasks: the count only asks for a turn.
        let task = rt.spawn(async { 7 });
        assert_eq!(rt.block_on(task).unwrap(), 7);
    }
}
