//! The threads behind `spawn_blocking`.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use eddy_registration::catch_quietly;

/// A unit of blocking work, already wrapped to report its own outcome.
type Job = Box<dyn FnOnce() + Send>;

/// A small pool of threads started on demand and retired when idle. The
/// runtime never starts a thread for anything else.
#[derive(Clone, Debug)]
pub(crate) struct Pool {
    /// Shared with every worker thread.
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Queue and thread accounting.
    state: Mutex<State>,
    /// Idle workers wait here for a job or for shutdown.
    work_available: Condvar,
    /// Most threads alive at once.
    max_threads: usize,
    /// How long an idle worker waits before exiting.
    keep_alive: Duration,
}

#[derive(Default)]
struct State {
    /// Jobs not yet picked up.
    queue: VecDeque<Job>,
    /// Worker threads alive.
    threads: usize,
    /// Workers waiting on `work_available`.
    idle: usize,
    /// Notifications sent to idle workers that no worker has woken for yet.
    /// Without it, two jobs spawned back to back both count the same idle
    /// worker and the second queues behind the first instead of getting a
    /// thread of its own.
    notified: usize,
    /// Set when the runtime shuts down: workers finish the queue and exit.
    shutdown: bool,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("queued", &self.queue.len())
            .field("threads", &self.threads)
            .field("idle", &self.idle)
            .field("notified", &self.notified)
            .field("shutdown", &self.shutdown)
            .finish()
    }
}

impl Pool {
    pub(crate) fn new(max_threads: usize, keep_alive: Duration) -> Pool {
        Pool {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                work_available: Condvar::new(),
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
        if state.idle > state.notified {
            state.notified += 1;
            drop(state);
            self.inner.work_available.notify_one();
            return Ok(());
        }
        if state.threads >= self.inner.max_threads {
            // Every thread is busy: the job waits for the first to finish.
            return Ok(());
        }
        state.threads += 1;
        drop(state);
        let inner = self.inner.clone();
        let started = std::thread::Builder::new()
            .name("eddy-blocking".into())
            .spawn(move || inner.work());
        if let Err(error) = started {
            let mut state = self.inner.lock();
            state.threads -= 1;
            if state.threads == 0 {
                // Nobody would ever run it: hand the failure to the caller.
                // (Only the runtime's thread queues jobs, so the last one is
                // this call's.) Dropped after unlocking, like every job:
                // a job is any closure, and what its captures run as they
                // drop must not run under the pool's lock.
                let refused = state.queue.pop_back();
                drop(state);
                drop(refused);
                return Err(error);
            }
        }
        Ok(())
    }

    /// Threads alive now, for metrics.
    pub(crate) fn num_threads(&self) -> usize {
        self.inner.lock().threads
    }

    /// Refuses new jobs and lets idle threads exit.
    pub(crate) fn shutdown(&self) {
        self.inner.lock().shutdown = true;
        self.inner.work_available.notify_all();
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
        let mut state = self.lock();
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                // A job catches its own closure's panic, but dropping an
                // aborted job's captures, or waking the handle's waker, may
                // panic too. Unwinding out of here would kill the thread
                // without counting it out, and the pool would wait forever
                // for a thread that no longer exists. Quietly: a caught
                // payload is any type, and one whose own `Drop` panics got
                // out of a plain `catch_unwind` all the same.
                catch_quietly(job);
                state = self.lock();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let (next, timeout) = self
                .work_available
                .wait_timeout(state, self.keep_alive)
                .unwrap_or_else(|e| e.into_inner());
            state = next;
            state.idle -= 1;
            // Woken by a notification or not (a timeout racing one), this
            // worker now looks at the queue, which is what was asked of it.
            state.notified = state.notified.saturating_sub(1);
            if timeout.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
    }
}
