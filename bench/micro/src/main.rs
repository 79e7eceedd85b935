//! `micro`: the runtime micro-benchmarks, one runtime and one benchmark per run.
//!
//! | bench      | one operation                                             |
//! |------------|-----------------------------------------------------------|
//! | `spawn`    | spawn a task returning a number and join it (batches of 1000 spawned, then joined) |
//! | `pingpong` | one round trip between two spawned tasks over two `async-channel` channels of capacity 1 |
//! | `timers`   | one sleep registered (polled once); half are then cancelled (dropped), half awaited until they fire |
//! | `yield`    | one `yield_now().await` in a single task                  |
//! | `regchurn` | register one UDP socket with the reactor and deregister it (tokio `from_std`/`into_std`, smol `Async::new`/`into_inner`, mio `register`/`deregister`, eddy `Handle::add_source`/`deregister_source`) |
//!
//! Each run prints `RESULT rt=.. bench=.. n=.. cpu_ns_per_op=.. wall_ns_per_op=..`.
//! CPU time (the process clock) is the headline: the timer benchmark sleeps
//! until its deadline, which wall time would count. Under callgrind the
//! runner subtracts an `--n 0` run, so setup and teardown cancel out.
//!
//! Usage: `micro --rt tokio|smol|mio|eddy --bench spawn|pingpong|timers|yield|regchurn [--n N] [--timer-delay-ms MS]`
//! (`eddy` needs the `eddy` cargo feature; `mio` runs only `regchurn`).

mod bench_mio;
mod bench_smol;
mod bench_tokio;
// EDDY: the eddy variants, compiled only with `--features eddy`.
#[cfg(feature = "eddy")]
mod bench_eddy;

use std::io;
use std::time::{Duration, Instant};

/// Tasks spawned before the batch is joined, in the spawn benchmark.
pub(crate) const SPAWN_BATCH: u64 = 1000;

/// Which benchmark to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bench {
    /// Spawn and join.
    Spawn,
    /// Two tasks ping-ponging.
    PingPong,
    /// Timers inserted, then cancelled or fired.
    Timers,
    /// `yield_now` in a loop.
    Yield,
    /// Register and deregister one socket.
    RegChurn,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("micro: {e}");
        std::process::exit(1);
    }
}

/// Parses arguments, runs one benchmark, prints its result.
fn run() -> io::Result<()> {
    let usage = "usage: micro --rt tokio|smol|mio|eddy --bench spawn|pingpong|timers|yield|regchurn [--n N] [--timer-delay-ms MS]";
    let bad = |m: String| io::Error::new(io::ErrorKind::InvalidInput, format!("{m}\n{usage}"));
    let mut rt = None;
    let mut bench = None;
    let mut n: u64 = 1_000_000;
    let mut delay = Duration::from_millis(3000);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| bad(format!("{flag} needs a value")))?;
        match flag.as_str() {
            "--rt" => rt = Some(value),
            "--bench" => {
                bench = Some(match value.as_str() {
                    "spawn" => Bench::Spawn,
                    "pingpong" => Bench::PingPong,
                    "timers" => Bench::Timers,
                    "yield" => Bench::Yield,
                    "regchurn" => Bench::RegChurn,
                    _ => return Err(bad(format!("unknown bench {value:?}"))),
                })
            }
            "--n" => {
                n = value
                    .parse()
                    .map_err(|_| bad(format!("bad --n {value:?}")))?
            }
            "--timer-delay-ms" => {
                delay = Duration::from_millis(
                    value
                        .parse()
                        .map_err(|_| bad(format!("bad --timer-delay-ms {value:?}")))?,
                )
            }
            _ => return Err(bad(format!("unknown flag {flag:?}"))),
        }
    }
    let rt = rt.ok_or_else(|| bad("--rt is required".into()))?;
    let bench = bench.ok_or_else(|| bad("--bench is required".into()))?;

    let cpu0 = process_cpu_ns();
    let wall0 = Instant::now();
    match rt.as_str() {
        "tokio" => bench_tokio::run(bench, n, delay)?,
        "smol" => bench_smol::run(bench, n, delay)?,
        "mio" => bench_mio::run(bench, n)?,
        #[cfg(feature = "eddy")]
        "eddy" => bench_eddy::run(bench, n, delay)?,
        #[cfg(not(feature = "eddy"))]
        "eddy" => return Err(bad("built without the `eddy` feature".into())),
        _ => return Err(bad(format!("unknown runtime {rt:?}"))),
    }
    let cpu = process_cpu_ns() - cpu0;
    let wall = wall0.elapsed().as_nanos() as f64;
    let per = n.max(1) as f64;
    println!(
        "RESULT rt={rt} bench={} n={n} cpu_ns_per_op={:.2} wall_ns_per_op={:.2}",
        format!("{bench:?}").to_lowercase(),
        cpu as f64 / per,
        wall / per
    );
    Ok(())
}

/// CPU time of the whole process (every thread) in nanoseconds.
fn process_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The socket the registration-churn benchmark registers over and over.
pub(crate) fn churn_socket() -> io::Result<std::net::UdpSocket> {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// Deadline offsets for the timer benchmark: `delay` plus up to 1 ms of
/// spread, so the timers land in many slots instead of one.
pub(crate) fn timer_offset(i: u64, delay: Duration) -> Duration {
    delay + Duration::from_micros(i % 1000)
}
