//! `Core::shutdown`: the five steps of a runtime's drop, in the order
//! the crate docs promise (see `docs/ARCHITECTURE.md`, "Shutdown").

use eddy_registration::FirstPanic;

use super::Core;
use crate::runtime::context;

impl Core {
    /// Drops every task, then shuts the driver down. Runs once, from
    /// `Runtime`'s `Drop`, in the order the crate docs promise.
    pub(crate) fn shutdown(&self) {
        if self.shutting_down.replace(true) {
            return;
        }
        // SAFETY: as in `block_on`: a local of this frame, dropped when it
        // returns or unwinds.
        let _guard = unsafe { context::enter(self) };
        // Cancelling a task wakes its `JoinHandle`'s waker, foreign code
        // that may panic; every step below must still run, or a task left
        // uncancelled had its `!Send` future dropped by whichever thread let
        // go of it last and an open remote queue took spawns that never
        // run (rule 11). The first panic is re-raised at the end.
        let mut panics = FirstPanic::new();
        crate::trace::shutdown_step("dropping tasks");
        // (1) and (2): spawns are now refused; drop every task's future on
        // this thread, inside the context, so sockets deregister and timers
        // cancel. A task's `Drop` may spawn (refused) or wake others, so
        // loop until the slab stays empty.
        loop {
            // Taken whole rather than collected into a `Vec`: the same
            // order, without compiling a `collect` for it.
            let mut tasks = std::mem::take(&mut *self.tasks.borrow_mut());
            if tasks.is_empty() {
                break;
            }
            for task in tasks.drain() {
                // SAFETY: runtime thread (`&Core` is only reachable there),
                // and shutdown runs from `Runtime`'s drop, never inside a
                // poll of this runtime, so no `run` of the task is under way.
                panics.run(|| unsafe { task.cancel() });
                self.shared.metrics().task_finished();
            }
        }
        drop(std::mem::take(&mut *self.queue.borrow_mut()));
        // Tasks other threads spawned and the runtime never adopted go
        // too, while the pool still takes the jobs their `Drop` starts;
        // those pushed from now on race the drop, and (3) cancels them
        // (finding 75).
        let mut never_adopted = Vec::new();
        self.shared.take_remote(&mut never_adopted);
        for task in never_adopted {
            // SAFETY: as in the loop above; a task here is either one never
            // adopted or one already cancelled there (then a no-op).
            panics.run(|| unsafe { task.cancel() });
        }
        // (3): the blocking pool closes before the remote queue, or a
        // thread that read `Handle::is_shutdown` true still had its jobs
        // run (RELIABILITY finding 75).
        self.shared.blocking().shutdown();
        crate::trace::shutdown_step("draining the remote queue");
        for task in self.shared.close_remote() {
            // SAFETY: as for the tasks taken before the pool closed.
            panics.run(|| unsafe { task.cancel() });
        }
        // Dropped outside the borrow, or one that yields panicked "already
        // borrowed" (RELIABILITY finding 15); one at a time in the batch,
        // or a panicking drop skipped the steps below (finding 20; time
        // rule 10).
        let timers = self.timers.take();
        for waker in timers.into_wakers() {
            panics.run(|| drop(waker));
        }
        let deferred = std::mem::take(&mut *self.deferred.borrow_mut());
        for waker in deferred {
            panics.run(|| drop(waker));
        }
        // (4): every registration gets its shutdown bit and its waiters
        // woken, before (5) the `mio::Poll` is dropped with the core.
        crate::trace::shutdown_step("shutting down the I/O driver");
        panics.run(|| self.driver.borrow_mut().shutdown());
        self.publish_metrics();
        if std::thread::panicking() {
            // A second panic while unwinding aborts the process: the
            // waker's ends here, reported by the hook (12).
            drop(panics);
        } else {
            panics.resume();
        }
    }
}
