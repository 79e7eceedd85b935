//! `spawn_blocking`: running blocking code without stalling the runtime.
//!
//! The runtime has one thread, and a closure that blocks it (a file read, a
//! DNS lookup, a CPU-heavy hash) stops every task and socket with it. So
//! such a closure runs on a small pool of threads of its own, and the task
//! awaits its result like any other future. [`spawn()`] (`spawn.rs`) is the
//! one way in, reached from `task::spawn_blocking` on the runtime's thread
//! (which panics outside a runtime) and from `Handle::spawn_blocking` on any
//! thread. It wraps the closure in a `BlockingJob` (`job.rs`: a stage word,
//! the closure, and the join slot its `JoinHandle` reads); the handle holds
//! one `Arc` of the job, and a `Runner` holding the other goes to the
//! [`Pool`] (`pool.rs`), whose state (queue, thread count, stack of idle
//! workers, shutdown flag) lives under one mutex.
//!
//! # The rules
//!
//! The finding numbers are those of `docs/RELIABILITY.md`, which tells the
//! bug behind each rule in full.
//!
//! 1. **Every handle resolves exactly once**: to the closure's value, to
//!    its panic (a `JoinError`, caught by `catch_unwind` around the
//!    closure), or cancelled. Cancelled means aborted while queued, or
//!    refused: a job the pool drops unrun cancels itself, since the queue
//!    holds its `Runner`, whose `Drop` does what `abort` does (50).
//! 2. **The stage word only moves forward, by compare-exchange, and only
//!    its winner takes the closure.** `QUEUED` to `RUNNING` is a worker
//!    starting the job, which then cannot be stopped; `QUEUED` to `DONE`
//!    is `abort` or a refused `Runner`, which drops the closure on its own
//!    thread before it resolves the handle, so the captures (sockets,
//!    locks, senders) do not wait for a worker (5, 55).
//! 3. **No user code runs under a lock.** Closures run, captures and
//!    refused jobs drop, and wakers wake with the pool's mutex and the
//!    job's released, so any of them may call back into the pool
//!    (`spawn_blocking`, `abort`) or the runtime.
//! 4. **A panic is the business of whoever caused it.** The closure's goes
//!    to its handle; whatever else a worker runs (an aborted closure's
//!    captures, the handle's waker, a payload whose `Drop` panics) is
//!    caught quietly, or the thread died uncounted and the pool waited for
//!    it for ever (5, 14); a closure dropped by `abort`, and other callers'
//!    jobs refused with one's own (rule 6), drop quietly too (14, 50).
//! 5. **Every queued job has a counted thread on its way to it.** Under one
//!    lock, `Pool::spawn` queues the job and then pops the idle worker on
//!    top of the stack (notified after unlocking), or leaves the job to the
//!    busy threads when `threads` is at the limit, or counts a new thread
//!    before it starts it. A worker leaves (and is counted out) only when
//!    it finds the queue empty, in the same critical section. `threads`
//!    counts idle threads and ones being started, and never passes
//!    `Builder::max_blocking_threads` (at least 1).
//! 6. **A thread start that fails with no thread alive refuses the whole
//!    queue**, not just its own job: another thread's spawn may have queued
//!    one meanwhile and, seeing this start counted, started none (50). With
//!    threads alive, the job waits for them.
//! 7. **A worker is idle exactly while it is on the stack**, the one that
//!    went idle last on top, each waiting on its own condition variable.
//!    `Pool::spawn` hands a job to the top one by popping it, so two jobs
//!    wake two workers and a trickle reuses the same few while the rest
//!    retire (39). Woken for any reason, a worker checks under the lock
//!    whether it is still on the stack; popped, it goes to the queue, even
//!    if its keep-alive ran out meanwhile.
//! 8. **A worker left on the stack for `Builder::thread_keep_alive` takes
//!    itself off and exits**, unless jobs are queued; a keep-alive too long
//!    to add to `Instant::now()` never runs out.
//! 9. **At shutdown the pool refuses new jobs and sends its idle workers
//!    away; busy ones finish the queue, then exit.** The runtime's drop
//!    closes it once every task's future is dropped (those of tasks other
//!    threads spawned that it never adopted included), so a job a task's
//!    `Drop` starts still runs, and before it closes the remote queue, so
//!    once `Handle::is_shutdown` reads true every job is refused (75). The
//!    drop does not wait for the pool's threads: a closure blocked for
//!    ever must not hang it.
//! 10. **A job runs outside any runtime**, on a thread the pool started:
//!     the pool is the only place the runtime starts threads, and its
//!     threads never enter a runtime.
//!
//! The stage word's races (run against abort, a refused `Runner`) have
//! loom models in `job_loom_tests.rs`, and the pool's hand-off (jobs from
//! two threads, the idle stack, shutdown) in `pool_loom_tests.rs`; the
//! keep-alive running out and a failed thread start, which loom cannot
//! produce, are tested in `tests/tests/blocking.rs`.

mod job;
mod pool;
mod spawn;

pub(crate) use pool::Pool;
pub(crate) use spawn::spawn;
