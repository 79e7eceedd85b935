//! The cooperative budget, and what each `Builder` setting accepts.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use eddy::task::yield_now;
use eddy::{Builder, Runtime};
use eddy_tests::{spin_until, wake_self_once, with_deadline};

use crate::{LIMIT, udp_sink_and_senders};

#[test]
fn a_budget_spent_inside_block_on_does_not_leak_to_polls_outside_the_runtime() {
    with_deadline(LIMIT, || {
        let rt = Builder::new().budget(1).build().unwrap();
        // The last poll of the main future spends the whole budget.
        rt.block_on(eddy::time::sleep(Duration::ZERO));
        drop(rt);
        // Outside any runtime an elapsed sleep needs nothing: it is ready.
        let mut elapsed = eddy::time::sleep(Duration::ZERO);
        let poll = Pin::new(&mut elapsed)
            .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
        assert!(
            poll.is_ready(),
            "a budget left at zero by the runtime starves polls outside it"
        );
    });
}

/// How often a task is polled while it completes 100 already-elapsed
/// sleeps (each spends a unit of budget, but one that yielded for want of
/// it completes at the next poll without one), after `before` ran in its
/// first poll, on a runtime with a budget of 4.
fn polls_for_a_hundred_budgeted_steps_after(before: fn()) -> u64 {
    let rt = Builder::new().budget(4).build().unwrap();
    let polls = Rc::new(Cell::new(0));
    let task = rt.spawn(eddy_tests::count_polls(Rc::clone(&polls), async move {
        before();
        for _ in 0..100 {
            eddy::time::sleep(Duration::ZERO).await;
        }
    }));
    rt.block_on(task).unwrap();
    polls.get()
}

#[test]
fn a_task_that_drops_another_runtime_keeps_its_cooperative_budget() {
    with_deadline(LIMIT, || {
        let plain = polls_for_a_hundred_budgeted_steps_after(|| {});
        // Dropping a runtime enters it for the shutdown and leaves it
        // again; leaving once reset the budget to "unlimited", so the rest
        // of this poll could loop over an always-ready socket for ever and
        // starve every other task of the outer runtime.
        let after_drop = polls_for_a_hundred_budgeted_steps_after(|| drop(Runtime::new().unwrap()));
        // 4 in the first poll, then 5 in each (the one that yielded, then
        // 4 with the budget), and the last alone.
        assert_eq!(
            plain, 21,
            "100 steps at 4 per poll, plus the one that yielded"
        );
        assert_eq!(
            after_drop, plain,
            "the task stopped yielding after it dropped a runtime"
        );
    });
}

/// A loop racing sends on many UDP sockets (first ready wins) that drops
/// a runtime at each round (a synchronous helper that builds and drops
/// its own) still yields whenever its budget runs out. Dropping a
/// runtime enters it and gives the task its budget back on leaving; if
/// that also counted as a new poll, every socket's "refused in an earlier
/// poll" mark (finding 62) counted at every round, and the loop ran
/// 2^24 rounds between two yields, as before that finding.
#[test]
#[cfg_attr(miri, ignore = "Miri: no datagram sockets")]
fn a_loop_racing_sends_that_drops_a_runtime_each_round_still_yields() {
    use futures_util::future::select_all;
    // Bounded: if the loop never yields, it gives up after this many
    // rounds and the assertion fails.
    const GIVE_UP_AFTER: u64 = 100_000;
    const SOCKETS: usize = 24;
    with_deadline(Duration::from_secs(120), || {
        let rt = Builder::new().event_interval(1).build().unwrap();
        let rounds = rt.block_on(async {
            let (sink, senders) = udp_sink_and_senders(SOCKETS).await;
            let sink_addr = sink.local_addr().unwrap();
            let other_ran = Rc::new(Cell::new(false));
            let racing = eddy::spawn({
                let other_ran = Rc::clone(&other_ran);
                async move {
                    let mut rounds = 0u64;
                    while !other_ran.get() && rounds < GIVE_UP_AFTER {
                        drop(Runtime::new().unwrap());
                        let racing = senders
                            .iter()
                            .map(|socket| Box::pin(socket.send_to(b"x", sink_addr)));
                        let (sent, _, _) = select_all(racing).await;
                        assert_eq!(sent.unwrap(), 1);
                        rounds += 1;
                    }
                    rounds
                }
            });
            // Runs once the racing loop has yielded twice or more.
            let other = eddy::spawn({
                let other_ran = Rc::clone(&other_ran);
                async move {
                    yield_now().await;
                    other_ran.set(true);
                }
            });
            let rounds = racing.await.unwrap();
            other.await.unwrap();
            drop(sink);
            rounds
        });
        assert!(
            rounds < GIVE_UP_AFTER,
            "{rounds} rounds racing sends on {SOCKETS} sockets and dropping a runtime \
             never let the other task run"
        );
    });
}

/// Receives (`recv_from`, an `async_io` operation) started a few per
/// poll with budget to spare and left waiting, then all made ready at
/// once, complete within `Builder::budget`'s bound: the budget, plus one
/// per socket direction or operation that found it spent in an earlier
/// poll (here none had). Before, `async_io` spent its unit at its check
/// before the wait, and a receive that had waited completed later without
/// one: with a budget of 2, six receives started two a poll all completed
/// in the poll their datagrams came in.
#[test]
#[cfg_attr(miri, ignore = "Miri: no datagram sockets")]
fn receives_that_waited_complete_within_the_budget_when_their_datagrams_come_together() {
    const BUDGET: u32 = 2;
    const RECEIVES: usize = 6;
    with_deadline(LIMIT, || {
        let rt = Builder::new().budget(BUDGET).build().unwrap();
        let first = rt.block_on(async {
            let socket = eddy::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let addr = socket.local_addr().unwrap();
            let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let receive = || async {
                let mut buf = [0u8; 1];
                socket.recv_from(&mut buf).await.unwrap().0
            };
            let mut receives = Vec::new();
            let mut done = 0;
            let mut sent = false;
            // How many receives completed in the first poll that
            // completed any: the poll their datagrams came in, before
            // which none had found the budget spent.
            let mut first = None;
            std::future::poll_fn(|cx| {
                if receives.len() < RECEIVES {
                    // The budget's worth of new receives: each passes its
                    // check with a unit to spare, and waits.
                    for _ in 0..BUDGET {
                        receives.push(Some(Box::pin(receive())));
                    }
                }
                let mut completed = 0;
                for slot in &mut receives {
                    if let Some(receiving) = slot {
                        if let std::task::Poll::Ready(len) = receiving.as_mut().poll(cx) {
                            assert_eq!(len, 1);
                            *slot = None;
                            completed += 1;
                        }
                    }
                }
                done += completed;
                if completed > 0 && first.is_none() {
                    first = Some(completed);
                }
                if receives.len() < RECEIVES {
                    cx.waker().wake_by_ref();
                    return std::task::Poll::Pending;
                }
                if !sent {
                    assert_eq!(done, 0, "a receive completed with no datagram sent");
                    // All waiting: one datagram each, readable together.
                    for _ in 0..RECEIVES {
                        sender.send_to(b"x", addr).unwrap();
                    }
                    sent = true;
                }
                if done == RECEIVES {
                    std::task::Poll::Ready(first.unwrap_or(0))
                } else {
                    std::task::Poll::Pending
                }
            })
            .await
        });
        assert!(
            first <= BUDGET as usize + 1,
            "{first} receives that had waited completed in one poll, with a budget of {BUDGET}"
        );
    });
}

#[test]
#[should_panic(expected = "event_interval must be at least 1")]
fn a_zero_event_interval_is_refused() {
    let _ = Builder::new().event_interval(0);
}

#[test]
#[should_panic(expected = "budget must be at least 1")]
fn a_zero_budget_is_refused() {
    let _ = Builder::new().budget(0);
}

#[test]
fn every_builder_setting_yields_a_working_runtime() {
    with_deadline(LIMIT, || {
        let rt = Builder::new()
            .event_interval(1)
            .budget(1)
            .events_capacity(0)
            .max_blocking_threads(0)
            .thread_keep_alive(Duration::ZERO)
            .build()
            .unwrap();
        let value = rt.block_on(async {
            let task = eddy::spawn(async {
                yield_now().await;
                eddy::time::sleep(Duration::from_millis(1)).await;
                eddy::task::spawn_blocking(|| 6).await.unwrap()
            });
            task.await.unwrap() * 7
        });
        assert_eq!(value, 42);
    });
}

#[test]
fn an_event_interval_of_one_with_a_busy_block_on_future_still_runs_spawned_tasks() {
    with_deadline(LIMIT, || {
        let rt = Builder::new().event_interval(1).build().unwrap();
        let ran = rt.block_on(async {
            let done = Rc::new(Cell::new(false));
            let task = eddy::spawn({
                let done = done.clone();
                async move { done.set(true) }
            });
            // The main future's own poll fills the interval of 1 before
            // every tick: the task must still get its turn.
            let ran = spin_until(done, 100_000, wake_self_once).await;
            task.await.unwrap();
            ran
        });
        assert!(
            ran,
            "the spawned task never ran beside a busy block_on future"
        );
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no datagram sockets")]
fn an_events_capacity_too_large_for_the_os_still_builds_a_runtime_that_turns() {
    // `usize::MAX` cannot be allocated; 178,956,971 events can (lazily),
    // but `epoll_wait` refuses more than INT_MAX / 12 with EINVAL. Either
    // must give a runtime whose driver turns: a sleep needs a blocking turn,
    // a datagram a turn that reports an event.
    for capacity in [usize::MAX, 178_956_971] {
        with_deadline(LIMIT, move || {
            let rt = Builder::new()
                .events_capacity(capacity)
                .build()
                .expect("an odd events_capacity must still build a runtime");
            let echoed = rt.block_on(async {
                eddy::time::sleep(Duration::from_millis(1)).await;
                let (a, b) = eddy::net::UnixDatagram::pair().expect("pair");
                a.send(b"turn").await.expect("send");
                let mut buf = [0u8; 8];
                let n = b.recv(&mut buf).await.expect("recv");
                buf[..n].to_vec()
            });
            assert_eq!(echoed, b"turn", "capacity {capacity}");
        });
    }
}

/// One UDP socket shared by two runtimes on two threads (an `Arc`, as a
/// server running a runtime per core might share it), each looping on an
/// always-ready `peek_from`: each loop must still yield within the budget's
/// bound, so that the other tasks of its runtime run. A socket direction's
/// mark holds a poll count, and each thread counts its own polls: a mark
/// the other thread left looked like one from an earlier poll of this
/// thread, and let one more operation through each time.
#[test]
#[cfg_attr(miri, ignore = "Miri: no datagram sockets")]
fn a_socket_two_threads_loop_on_still_yields_within_the_budget() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Barrier};
    const BUDGET: u32 = 8;
    const POLLS: u64 = 20_000;
    // The most peeks one poll of a loop made, on each thread, while both
    // loop at once. The socket is made by the first thread's runtime,
    // which keeps it registered, and handed to the second; `done` keeps
    // that runtime (and the registration) alive until both loops ended.
    fn loop_on(
        socket: impl Future<Output = Arc<eddy::net::UdpSocket>> + 'static,
        stop: Arc<AtomicBool>,
        done: Arc<Barrier>,
    ) -> u64 {
        let rt = Builder::new().budget(BUDGET).build().unwrap();
        let looping = rt.spawn(async move {
            let socket = socket.await;
            let peeks = Cell::new(0u64);
            let mut looping = Box::pin(async {
                let mut buf = [0u8; 1];
                while !stop.load(Ordering::Relaxed) {
                    socket.peek_from(&mut buf).await.unwrap();
                    peeks.set(peeks.get() + 1);
                }
            });
            let (mut most, mut polls) = (0, 0);
            std::future::poll_fn(|cx| {
                let before = peeks.get();
                let polled = looping.as_mut().poll(cx);
                most = most.max(peeks.get() - before);
                polls += 1;
                if polls == POLLS {
                    stop.store(true, Ordering::Relaxed);
                }
                polled
            })
            .await;
            done.wait();
            most
        });
        rt.block_on(looping).unwrap()
    }
    with_deadline(LIMIT, || {
        let (socket_tx, socket_rx) = std::sync::mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(Barrier::new(2));
        let other = std::thread::spawn({
            let (stop, done) = (Arc::clone(&stop), Arc::clone(&done));
            move || loop_on(async move { socket_rx.recv().unwrap() }, stop, done)
        });
        let making = async move {
            let socket = eddy::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            sender.send_to(b"x", socket.local_addr().unwrap()).unwrap();
            socket.readable().await.unwrap();
            let socket = Arc::new(socket);
            socket_tx.send(Arc::clone(&socket)).unwrap();
            socket
        };
        let here = loop_on(making, stop, done);
        let there = other.join().unwrap();
        // The bound: the budget, plus the direction's one pass (a fresh
        // peek each round has no mark of its own).
        let bound = u64::from(BUDGET) + 1;
        assert!(
            here <= bound && there <= bound,
            "a loop made {here} and {there} peeks in one poll, past the bound of {bound}"
        );
    });
}
