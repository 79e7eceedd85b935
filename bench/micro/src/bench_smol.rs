//! The micro-benchmarks on smol's `LocalExecutor` (driven by `smol::block_on`).

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use smol::{LocalExecutor, Timer};

use crate::{Bench, SPAWN_BATCH, churn_socket, timer_offset};

/// Runs `bench` with `n` operations.
pub(crate) fn run(bench: Bench, n: u64, delay: Duration) -> std::io::Result<()> {
    let ex = LocalExecutor::new();
    smol::block_on(ex.run(async {
        match bench {
            Bench::Spawn => {
                let mut left = n;
                let mut handles = Vec::with_capacity(SPAWN_BATCH as usize);
                while left > 0 {
                    let batch = left.min(SPAWN_BATCH);
                    for i in 0..batch {
                        handles.push(ex.spawn(async move { i }));
                    }
                    for h in handles.drain(..) {
                        std::hint::black_box(h.await);
                    }
                    left -= batch;
                }
            }
            Bench::PingPong => {
                let (to_b, from_a) = async_channel::bounded::<u64>(1);
                let (to_a, from_b) = async_channel::bounded::<u64>(1);
                let b = ex.spawn(async move {
                    while let Ok(v) = from_a.recv().await {
                        if to_a.send(v).await.is_err() {
                            break;
                        }
                    }
                });
                let a = ex.spawn(async move {
                    for i in 0..n {
                        to_b.send(i).await.expect("echo task alive");
                        from_b.recv().await.expect("echo task alive");
                    }
                });
                a.await;
                b.await;
            }
            Bench::Timers => {
                let base = Instant::now();
                let mut timers: Vec<Timer> = (0..n)
                    .map(|i| Timer::at(base + timer_offset(i, delay)))
                    .collect();
                // Poll each once: that is what registers it with the reactor.
                std::future::poll_fn(|cx| {
                    for t in &mut timers {
                        let _ = Pin::new(&mut *t).poll(cx);
                    }
                    Poll::Ready(())
                })
                .await;
                let mut i = 0;
                timers.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                for t in timers {
                    t.await;
                }
            }
            Bench::Yield => {
                for _ in 0..n {
                    smol::future::yield_now().await;
                }
            }
            Bench::RegChurn => {
                let mut socket = churn_socket()?;
                for _ in 0..n {
                    let registered = smol::Async::new(socket)?;
                    socket = registered.into_inner()?;
                }
            }
        }
        Ok(())
    }))
}
