//! EDDY: the micro-benchmarks on eddy, written against the API the runtime
//! promises (`Runtime::new`, `block_on`, `eddy::spawn` -> `JoinHandle` whose
//! await gives `Result<T, JoinError>`, `task::yield_now`, and tokio-like
//! `time::{sleep_until, Instant}`). Compiled only with `--features eddy`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use crate::{Bench, SPAWN_BATCH, churn_socket, timer_offset};

/// Runs `bench` with `n` operations.
pub(crate) fn run(bench: Bench, n: u64, delay: Duration) -> io::Result<()> {
    if bench == Bench::RegChurn {
        return reg_churn(n);
    }
    let rt = eddy::Runtime::new()?;
    rt.block_on(async move {
        match bench {
            Bench::Spawn => {
                let mut left = n;
                let mut handles = Vec::with_capacity(SPAWN_BATCH as usize);
                while left > 0 {
                    let batch = left.min(SPAWN_BATCH);
                    for i in 0..batch {
                        handles.push(eddy::spawn(async move { i }));
                    }
                    for h in handles.drain(..) {
                        std::hint::black_box(h.await.expect("task panicked"));
                    }
                    left -= batch;
                }
            }
            Bench::PingPong => {
                let (to_b, from_a) = async_channel::bounded::<u64>(1);
                let (to_a, from_b) = async_channel::bounded::<u64>(1);
                let b = eddy::spawn(async move {
                    while let Ok(v) = from_a.recv().await {
                        if to_a.send(v).await.is_err() {
                            break;
                        }
                    }
                });
                let a = eddy::spawn(async move {
                    for i in 0..n {
                        to_b.send(i).await.expect("echo task alive");
                        from_b.recv().await.expect("echo task alive");
                    }
                });
                a.await.expect("ping task panicked");
                b.await.expect("echo task panicked");
            }
            Bench::Timers => {
                let base = eddy::time::Instant::now();
                let mut sleeps: Vec<Pin<Box<_>>> = (0..n)
                    .map(|i| Box::pin(eddy::time::sleep_until(base + timer_offset(i, delay))))
                    .collect();
                // Poll each once: that is what inserts it into the timers.
                std::future::poll_fn(|cx| {
                    for s in &mut sleeps {
                        let _ = s.as_mut().poll(cx);
                    }
                    Poll::Ready(())
                })
                .await;
                let mut i = 0;
                sleeps.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                for s in sleeps {
                    s.await;
                }
            }
            Bench::Yield => {
                for _ in 0..n {
                    eddy::task::yield_now().await;
                }
            }
            Bench::RegChurn => unreachable!("handled before the runtime starts"),
        }
    });
    Ok(())
}

/// Turns of the driver between releases in `reg_churn`: a runtime turns its
/// driver between task polls, which is when deregistered entries are freed.
const TURN_EVERY: u64 = 64;

/// Registers and deregisters one socket `n` times straight on the driver,
/// turning it (zero timeout) every `TURN_EVERY` operations to release.
fn reg_churn(n: u64) -> io::Result<()> {
    let mut driver = eddy_io_driver::Driver::new(1024)?;
    let mut socket = mio::net::UdpSocket::from_std(churn_socket()?);
    for i in 0..n {
        let handle = driver.handle().clone();
        // SAFETY: a mio socket registers only itself, under the token it is given.
        let io = unsafe { handle.add_source(&mut socket, eddy_registration::Interest::READABLE) }?;
        // SAFETY: `socket` is the source just registered under `io`.
        unsafe { handle.deregister_source(&io, &mut socket) }?;
        if i % TURN_EVERY == TURN_EVERY - 1 {
            driver.turn(Some(Duration::ZERO))?;
        }
    }
    driver.turn(Some(Duration::ZERO))?;
    Ok(())
}
