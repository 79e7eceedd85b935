//! A tour of `eddy::time`: `sleep`, `timeout`, `interval`, and what each
//! `MissedTickBehavior` does after a stall. It prints what happens, with
//! times in milliseconds since the step started, then exits.
//!
//! ```sh
//! cargo run --release --example timers
//! cargo run --release --example timers -- --period-ms 100   # slower ticks
//! ```
//!
//! Read the output next to the table in `MissedTickBehavior`'s docs, then
//! try changing `STALL_HALF_PERIODS` to see more (or fewer) ticks go missing.
//! Exact numbers vary by a millisecond or two: timers have millisecond
//! resolution and the runtime wakes just after a deadline, never before.

use std::future::pending;
use std::io;
use std::num::NonZeroU64;
use std::time::{Duration, Instant};

use eddy::time::{self, MissedTickBehavior};
use eddy_examples::Flags;

/// How many half periods the interval demo blocks the runtime thread for:
/// three and a half periods, off the tick grid, so that `Delay` (restart
/// from now) and `Skip` (back onto the grid) visibly differ.
const STALL_HALF_PERIODS: u32 = 7;

fn main() -> io::Result<()> {
    let mut flags = Flags::from_args();
    // Non-zero: an interval of 0 ms would panic; `take` refuses 0 with a
    // usage message instead.
    let period_ms: NonZeroU64 = flags.take("period-ms", const { NonZeroU64::new(20).unwrap() });
    flags.finish();
    let period = Duration::from_millis(period_ms.get());
    eddy::run(async {
        sleeping().await;
        timeouts().await;
        ticking(period).await;
        for behavior in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            missing_ticks(behavior, period).await;
        }
    });
    println!("timers: done");
    Ok(())
}

/// Milliseconds from `start` to `then`.
fn ms(start: Instant, then: Instant) -> u128 {
    then.saturating_duration_since(start).as_millis()
}

/// `sleep` parks only this task; the runtime sleeps when every task does.
async fn sleeping() {
    let start = Instant::now();
    time::sleep(Duration::from_millis(50)).await;
    println!(
        "sleep: asked for 50 ms, woke after {} ms",
        ms(start, Instant::now())
    );
}

/// `timeout` races a future against a deadline.
async fn timeouts() {
    let start = Instant::now();
    let quick = async {
        time::sleep(Duration::from_millis(10)).await;
        "quick answer"
    };
    match time::timeout(Duration::from_millis(100), quick).await {
        Ok(answer) => println!(
            "timeout: got {answer:?} after {} ms",
            ms(start, Instant::now())
        ),
        Err(elapsed) => println!("timeout: unexpected: {elapsed}"),
    }

    let start = Instant::now();
    match time::timeout(Duration::from_millis(30), pending::<()>()).await {
        Ok(()) => println!("timeout: unexpected: a pending future finished"),
        Err(elapsed) => println!(
            "timeout: gave up on a future that never finishes after {} ms ({elapsed})",
            ms(start, Instant::now())
        ),
    }
}

/// `interval` ticks on a fixed schedule; the first tick is immediate.
async fn ticking(period: Duration) {
    let start = Instant::now();
    let mut every = time::interval(period);
    for n in 1..=4 {
        let scheduled = every.tick().await;
        println!(
            "interval: tick {n} scheduled at {} ms, seen at {} ms",
            ms(start, scheduled),
            ms(start, Instant::now())
        );
    }
}

/// Blocks the thread for a few periods right after the second tick, then
/// shows which ticks the interval returns and when.
async fn missing_ticks(behavior: MissedTickBehavior, period: Duration) {
    let start = Instant::now();
    let mut every = time::interval(period);
    every.set_missed_tick_behavior(behavior);
    every.tick().await;
    every.tick().await;
    // A task that blocks the thread (here on purpose) stalls every timer on
    // this runtime: the ticks due meanwhile are seen late.
    std::thread::sleep(period * STALL_HALF_PERIODS / 2);
    let stalled_until = ms(start, Instant::now());
    let mut ticks = Vec::new();
    for _ in 0..4 {
        let scheduled = every.tick().await;
        ticks.push(format!(
            "{}@{}",
            ms(start, scheduled),
            ms(start, Instant::now())
        ));
    }
    println!(
        "{behavior:?}: stalled until {stalled_until} ms; next ticks (scheduled@seen ms): {}",
        ticks.join(" ")
    );
}
