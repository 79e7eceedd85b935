//! Embedding eddy in a synchronous program: the runtime runs on its own
//! thread, the main thread hands it work with `Handle::spawn` and waits for
//! the answers, then stops it.
//!
//! ```sh
//! cargo run --release --example embed
//! cargo run --release --example embed -- --jobs 20
//! ```
//!
//! Watch the order of the answers: job N sleeps (jobs + 1 - N) * 10 ms, so
//! they finish last-first. All of them run at once on the one runtime
//! thread, and the main thread never blocks it. At most [`MAX_JOBS`] jobs:
//! job 1 sleeps longest, and with more the run would take minutes. Next,
//! try making `work` open a `TcpStream`: the main thread stays plain
//! synchronous code.
//!
//! The pieces, all std or runtime-agnostic:
//!
//! * `Runtime::new` + `block_on` on a std thread; `block_on` runs until
//!   the main thread says stop (an `async-channel` message, awaited there).
//! * `Handle` (cheap, `Send`) crosses to the main thread through a std
//!   `mpsc` channel; `Handle::spawn` queues a task from any thread and
//!   wakes the runtime.
//! * Answers come back over an `async-channel`, which the runtime side
//!   awaits (`send`) and the main thread blocks on (`recv_blocking`).

use std::io;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use eddy::{Handle, Runtime};
use eddy_examples::{Flags, usage_error};

/// What a job reports back: its number, its answer, how long it took.
type Answer = (u64, u64, Duration);

/// The most jobs `--jobs` accepts. Job 1 sleeps 10 ms per job, so this
/// many already make a 10-second run; the limit also keeps the delay's
/// arithmetic far from overflowing.
const MAX_JOBS: u64 = 1000;

fn main() -> io::Result<()> {
    let mut flags = Flags::from_args();
    let jobs: u64 = flags.take("jobs", 5);
    flags.finish();
    if jobs > MAX_JOBS {
        usage_error(&format!(
            "--jobs may be at most {MAX_JOBS}, not {jobs}: job 1 sleeps 10 ms per job, \
             so {MAX_JOBS} jobs already take 10 seconds"
        ));
    }
    let (stop, stopped) = async_channel::bounded::<()>(1);
    let (handle_tx, handle_rx) = mpsc::channel();

    let runtime_thread =
        thread::Builder::new()
            .name("eddy".to_string())
            .spawn(move || -> io::Result<()> {
                let runtime = Runtime::new()?;
                // The receiver is waiting; it only fails if main has already
                // given up, and then there is nothing left to do anyway.
                let _ = handle_tx.send(runtime.handle());
                // Runs every spawned task until the stop message arrives (or
                // the sender is dropped: main ended without saying so).
                runtime.block_on(async { stopped.recv().await.ok() });
                // Dropping the runtime cancels any task still pending and
                // deregisters its sockets before the thread ends.
                Ok(())
            })?;
    let Ok(handle) = handle_rx.recv() else {
        // The thread ended before sending its handle: Runtime::new failed.
        return match runtime_thread.join() {
            Ok(result) => result,
            Err(_) => Err(io::Error::other("the runtime thread panicked")),
        };
    };
    println!("embed: runtime running on thread 'eddy'; handing it {jobs} jobs");

    let answers = hand_out(&handle, jobs);
    for (job, answer, took) in answers.iter() {
        println!("job {job} -> {answer} (after {} ms)", took.as_millis());
    }

    // Stop the runtime and wait for its thread to finish.
    let _ = stop.send_blocking(());
    match runtime_thread.join() {
        Ok(result) => result?,
        Err(_) => return Err(io::Error::other("the runtime thread panicked")),
    }
    let metrics = handle.metrics();
    println!(
        "embed: runtime stopped cleanly ({} tasks alive of {} spawned)",
        metrics.tasks_alive, metrics.tasks_spawned
    );
    Ok(())
}

/// Spawns `jobs` tasks from this (non-runtime) thread and blocks until all
/// have answered; returns the answers in the order they arrived.
fn hand_out(handle: &Handle, jobs: u64) -> Vec<Answer> {
    let (answer_tx, answer_rx) = async_channel::unbounded();
    for job in 1..=jobs {
        let answer_tx = answer_tx.clone();
        let delay = Duration::from_millis(10 * (jobs + 1 - job));
        // The task is `Send` (Handle::spawn needs that: it crosses threads).
        // Its JoinHandle is dropped, which detaches it; the answer comes
        // back over the channel instead.
        handle.spawn(async move {
            let answer = work(job, delay).await;
            // Fails only if main stopped listening: nothing to do then.
            let _ = answer_tx.send(answer).await;
        });
    }
    drop(answer_tx);
    // Ends once every task has answered and dropped its sender.
    std::iter::from_fn(|| answer_rx.recv_blocking().ok()).collect()
}

/// The "work": wait a while without blocking the runtime thread, then
/// compute something.
async fn work(job: u64, delay: Duration) -> Answer {
    let start = Instant::now();
    eddy::time::sleep(delay).await;
    (job, job * job, start.elapsed())
}
