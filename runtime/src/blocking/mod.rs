//! `spawn_blocking`: running blocking code without stalling the runtime.
//!
//! The runtime has one thread, and a closure that blocks it (a file read, a
//! DNS lookup, a CPU-heavy hash) stops every task and socket with it. So
//! such a closure runs on a small pool of threads of its own, and the task
//! awaits its result like any other future.
//!
//! # How a job flows
//!
//! 1. [`spawn()`] (reached from `task::spawn_blocking` on the runtime's
//!    thread and from `Handle::spawn_blocking` on any thread) wraps the
//!    closure in a `BlockingJob` (`job.rs`): its stage word (queued, running, done),
//!    the closure itself, and the join slot its `JoinHandle` reads. The
//!    handle gets one `Arc` of the job; a `Runner` holding the other goes
//!    to the pool.
//! 2. [`Pool::spawn`] (`pool.rs`) queues the runner and hands it to the
//!    worker that went idle last, or starts a thread if none is idle and the
//!    limit (`Builder::max_blocking_threads`, 64 by default) allows; if not,
//!    the job waits in the queue for the first worker to finish.
//! 3. A worker pops the runner and runs it: the stage moves from queued to
//!    running by compare-exchange, the closure runs under `catch_unwind`,
//!    and its value (or its panic, as a `JoinError`) goes to the join slot,
//!    whose waker wakes the awaiting task through the runtime's queue.
//! 4. A worker idle for the keep-alive (`Builder::thread_keep_alive`, 10 s)
//!    exits; the next job starts a thread again.
//!
//! Two ways a job ends without running, both resolving the handle with a
//! cancelled `JoinError`, never leaving it waiting:
//!
//! * *aborted while queued*: `JoinHandle::abort` wins the stage word from
//!   queued to done and drops the closure on the aborting thread, so its
//!   captures (sockets, senders, locks) do not live until a worker reaches
//!   the job;
//! * *refused*: after the runtime's shutdown, or when no thread is alive
//!   and none can start, the pool drops the runner unrun, and a runner's
//!   `Drop` cancels its job.
//!
//! At shutdown the pool refuses new jobs and wakes its idle workers; the
//! busy ones finish the queue and exit. The runtime does not wait for them:
//! a closure blocked for ever must not hang the runtime's drop.

mod job;
mod pool;
mod spawn;

pub(crate) use pool::Pool;
pub(crate) use spawn::spawn;
