//! The micro-benchmarks on tokio's `current_thread` runtime.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use crate::{Bench, SPAWN_BATCH, churn_socket, timer_offset};

/// Runs `bench` with `n` operations.
pub(crate) fn run(bench: Bench, n: u64, delay: Duration) -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .enable_io()
        .build()?;
    rt.block_on(async move {
        match bench {
            Bench::Spawn => {
                let mut left = n;
                let mut handles = Vec::with_capacity(SPAWN_BATCH as usize);
                while left > 0 {
                    let batch = left.min(SPAWN_BATCH);
                    for i in 0..batch {
                        handles.push(tokio::spawn(async move { i }));
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
                let b = tokio::spawn(async move {
                    while let Ok(v) = from_a.recv().await {
                        if to_a.send(v).await.is_err() {
                            break;
                        }
                    }
                });
                let a = tokio::spawn(async move {
                    for i in 0..n {
                        to_b.send(i).await.expect("echo task alive");
                        from_b.recv().await.expect("echo task alive");
                    }
                });
                a.await.expect("ping task panicked");
                b.await.expect("echo task panicked");
            }
            Bench::Timers => {
                let base = tokio::time::Instant::now();
                let mut sleeps: Vec<Pin<Box<tokio::time::Sleep>>> = (0..n)
                    .map(|i| Box::pin(tokio::time::sleep_until(base + timer_offset(i, delay))))
                    .collect();
                // Poll each once: that is what inserts it into the timer wheel.
                std::future::poll_fn(|cx| {
                    for s in &mut sleeps {
                        let _ = s.as_mut().poll(cx);
                    }
                    Poll::Ready(())
                })
                .await;
                // Cancel the odd half, let the even half fire.
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
                    tokio::task::yield_now().await;
                }
            }
            Bench::RegChurn => {
                let mut socket = churn_socket()?;
                for _ in 0..n {
                    let registered = tokio::net::UdpSocket::from_std(socket)?;
                    socket = registered.into_std()?;
                }
            }
        }
        Ok::<(), io::Error>(())
    })
}
