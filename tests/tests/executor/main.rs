//! The executor end to end: spawning and joining, `!Send` tasks, abort,
//! panic capture, detaching, cross-thread spawns and wakes, fairness,
//! metrics, misuse that must panic clearly, and a seeded random stress test.
//!
//! Every test runs under `with_deadline`, so a runtime that hangs fails the
//! test instead of stalling CI. No test asserts how long anything took: the
//! machine is shared and noisy. Loops that wait for something bound their
//! iterations and then fail with a message.
//!
//! Timers have their own binary (`time/`, whose `budget.rs` also proves
//! that `yield_now` in a loop does not starve a timer); shutdown is in
//! `shutdown.rs` and the blocking pool in `blocking.rs`.

use std::time::Duration;

use eddy::task::yield_now;

mod abort;
mod budget_and_builder;
mod detach;
mod fairness;
mod metrics_and_misuse;
mod other_threads;
mod panics;
mod random_stress;
mod spawn_join;

/// Generous hang detector for ordinary tests.
const LIMIT: Duration = Duration::from_secs(30);

/// Yields until `done()` holds, at most `max_yields` times. Returns whether
/// it held, so a broken runtime fails an assertion instead of spinning.
async fn yield_until(mut done: impl FnMut() -> bool, max_yields: u32) -> bool {
    for _ in 0..max_yields {
        if done() {
            return true;
        }
        yield_now().await;
    }
    done()
}

/// A UDP socket never read, so that sends to it never block (loopback
/// drops what overflows its buffer, and the sends still succeed), and
/// `count` eddy sockets that send to it, each known writable: each has
/// sent one datagram already.
async fn udp_sink_and_senders(count: usize) -> (std::net::UdpSocket, Vec<eddy::net::UdpSocket>) {
    let sink = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let sink_addr = sink.local_addr().unwrap();
    let mut senders = Vec::with_capacity(count);
    for _ in 0..count {
        let sender = eddy::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        sender.send_to(b"x", sink_addr).await.unwrap();
        senders.push(sender);
    }
    (sink, senders)
}
