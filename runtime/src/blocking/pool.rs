//! The threads behind `spawn_blocking`.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::loom::sync::{Condvar, Mutex, MutexGuard};

use eddy_registration::{catch_quietly, drop_quietly};

/// A unit of blocking work, already wrapped to report its own outcome, run
/// or not: dropped unrun, it reports itself cancelled.
type Job = Box<dyn FnOnce() + Send>;

/// A small pool of threads started on demand and retired when idle (the
/// module's rules 5 to 9). The runtime never starts a thread for anything
/// else.
///
/// Idle workers wait on a stack, and a job goes to the one that went idle
/// last, so a steady trickle reuses the same few threads and the ones a
/// past burst started retire: with one condition variable for all of them,
/// every thread got a job in turn and the pool only grew to its limit (39).
#[derive(Clone, Debug)]
pub(crate) struct Pool {
    /// Shared with every worker thread.
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Queue and thread accounting.
    state: Mutex<State>,
    /// Most threads alive at once.
    max_threads: usize,
    /// How long an idle worker waits before exiting.
    keep_alive: Duration,
}

/// Where one idle worker waits. Always used with `Inner::state`'s mutex.
#[derive(Debug, Default)]
struct Idle {
    /// Notified when the worker is handed a job or the pool shuts down.
    wake: Condvar,
}

#[derive(Default)]
struct State {
    /// Jobs not yet picked up.
    queue: VecDeque<Job>,
    /// Worker threads alive.
    threads: usize,
    /// Workers waiting for a job, the one that went idle last on top. A
    /// worker is popped when it is handed a job (so two jobs spawned back
    /// to back wake two workers, not the same one twice) and removes
    /// itself when its keep-alive runs out.
    idle: Vec<Arc<Idle>>,
    /// Set when the runtime shuts down: workers finish the queue and exit.
    shutdown: bool,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("queued", &self.queue.len())
            .field("threads", &self.threads)
            .field("idle", &self.idle.len())
            .field("shutdown", &self.shutdown)
            .finish()
    }
}

impl Pool {
    pub(crate) fn new(max_threads: usize, keep_alive: Duration) -> Pool {
        Pool {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                max_threads,
                keep_alive,
            }),
        }
    }

    /// Queues `job`, starting a thread if none is idle and the limit allows.
    /// Fails after shutdown, or if no thread exists and none can be started.
    pub(crate) fn spawn(&self, job: Job) -> io::Result<()> {
        let mut state = self.inner.lock();
        if state.shutdown {
            return Err(eddy_registration::shutdown_error());
        }
        state.queue.push_back(job);
        if let Some(idle) = state.idle.pop() {
            drop(state);
            idle.wake.notify_one();
            return Ok(());
        }
        if state.threads >= self.inner.max_threads {
            // Every thread is busy: the job waits for the first to finish.
            return Ok(());
        }
        state.threads += 1;
        drop(state);
        let inner = self.inner.clone();
        let started = crate::loom::thread::Builder::new()
            .name("eddy-blocking".into())
            .spawn(move || inner.work());
        if let Err(error) = started {
            let mut state = self.inner.lock();
            state.threads -= 1;
            if state.threads == 0 {
                // No thread will run the queue: refusing only this call's
                // job left the one another thread queued meanwhile waiting
                // for ever (50; rule 6). Each refused job cancels itself as
                // it drops, after unlocking and quietly (rules 1, 3, 4).
                let refused = std::mem::take(&mut state.queue);
                drop(state);
                for job in refused {
                    drop_quietly(job);
                }
                return Err(error);
            }
        }
        Ok(())
    }

    /// For metrics, read under one lock: threads alive, of those the ones
    /// waiting for a job, and jobs not yet taken by a thread.
    pub(crate) fn gauges(&self) -> (usize, usize, usize) {
        let state = self.inner.lock();
        (state.threads, state.idle.len(), state.queue.len())
    }

    /// Refuses new jobs and lets idle threads exit.
    pub(crate) fn shutdown(&self) {
        let mut state = self.inner.lock();
        state.shutdown = true;
        let idle = std::mem::take(&mut state.idle);
        drop(state);
        for worker in idle {
            worker.wake.notify_one();
        }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock and catch their own panics.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A worker thread's life: run jobs until idle for `keep_alive`, or until
    /// shutdown with an empty queue.
    fn work(&self) {
        let me = Arc::new(Idle::default());
        let mut state = self.lock();
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                // Caught, or a panic of the handle's waker (or of a payload
                // whose `Drop` panics, which a plain `catch_unwind` let out)
                // ended the thread uncounted, and the pool waited for it for
                // ever (5, 14; rule 4).
                catch_quietly(job);
                state = self.lock();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle.push(Arc::clone(&me));
            // A keep-alive too long to add (`Duration::MAX`) never runs out.
            let deadline = Instant::now().checked_add(self.keep_alive);
            // Wait until popped off the stack (handed a job, or the pool
            // shut down) or the keep-alive runs out; wake-ups that are
            // neither wait again.
            let expired = loop {
                let still_idle = state.idle.iter().any(|idle| Arc::ptr_eq(idle, &me));
                if !still_idle {
                    break false;
                }
                let left = match deadline {
                    Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                    None => self.keep_alive,
                };
                if left.is_zero() {
                    break true;
                }
                state = me
                    .wake
                    .wait_timeout(state, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            };
            if expired {
                // Still on the stack, so nobody counts on this worker.
                state.idle.retain(|idle| !Arc::ptr_eq(idle, &me));
                if state.queue.is_empty() {
                    break;
                }
            }
        }
        state.threads -= 1;
    }
}

/// loom models of the pool's hand-off: jobs queued from two threads (the
/// runtime's, and another through a `Handle`) while workers start, go idle
/// on the stack and are popped, then shutdown. The pool runs its real code
/// on loom's mutex, condition variables and threads (see `crate::loom`).
///
/// Scoped to what loom can check: loom's `Condvar::wait_timeout` never
/// times out (it waits for a notification), so the keep-alive running out
/// is not explored, and loom's thread start never fails, so neither is the
/// refusal when no thread can start; those have tests of their own.
///
/// Run with
/// `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release -p eddy --lib -- loom`.
#[cfg(all(test, loom))]
#[path = "pool_loom_tests.rs"]
mod loom_tests;
