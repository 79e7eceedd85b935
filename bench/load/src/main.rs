//! `echo-load`: the client of the echo benchmarks.
//!
//! * `--mode pingpong` (default): C connections, each with one S-byte message
//!   in flight, for `--warmup` then `--duration` seconds; prints round trips
//!   per second and p50/p99/p99.9 latency. `--count N` instead does exactly N
//!   round trips per connection with no warm-up (for callgrind and strace).
//! * `--mode churn`: connect, one echo, close with `SO_LINGER 0`, repeatedly,
//!   C at a time; prints connections per second.
//! * `--mode idle`: opens C connections, echoes once on each, holds them.
//!
//! With `--server-pid PID` it samples the server's CPU clocks from `/proc` at
//! the edges of the measured window and prints CPU nanoseconds per operation.
//! The last line of every run is `RESULT key=value ...` for the runner.
//!
//! Implementation: a single-threaded, edge-triggered mio loop that issues the
//! fewest syscalls a round trip allows (the short-read rule, one write per
//! message), so on its own pinned core it outruns any single-threaded server.

mod churn;
mod config;
mod cpu_sample;
mod histogram;
mod idle;
mod pingpong;
mod window;

use config::{Config, Mode};

fn main() {
    let result = Config::from_args().and_then(|cfg| match cfg.mode {
        Mode::PingPong => pingpong::run(&cfg),
        Mode::Churn => churn::run(&cfg),
        Mode::Idle => idle::run(&cfg),
    });
    if let Err(e) = result {
        eprintln!("echo-load: {e}");
        std::process::exit(1);
    }
}
