//! Timers beside tasks that never wait: a `yield_now` spinner, a loop over
//! expired sleeps, and futures that spend their whole cooperative budget.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use eddy::time::{Sleep, interval_at, sleep, timeout};
use eddy_tests::{run_bounded, spin_until};

use crate::ms;

#[test]
fn yield_now_in_a_loop_does_not_starve_a_timer() {
    // Bounded: if timers starve, the spinner gives up after this many yields
    // and the assertion below fails instead of the test hanging.
    const GIVE_UP_AFTER: u64 = 2_000_000;
    let fired_first = eddy::run(async {
        let done = Rc::new(Cell::new(false));
        let spinner = eddy::spawn(spin_until(
            Rc::clone(&done),
            GIVE_UP_AFTER,
            eddy::task::yield_now,
        ));
        sleep(ms(20)).await;
        done.set(true);
        spinner.await.unwrap()
    });
    assert!(
        fired_first,
        "the timer must fire while another task spins on yield_now"
    );
}

#[test]
fn a_loop_over_expired_sleeps_lets_other_tasks_run() {
    // Bounded: without the cooperative budget the looping task never yields
    // and stops after this many iterations, failing the assertion below.
    const GIVE_UP_AFTER: u64 = 1_000_000;
    let other_ran_first = eddy::run(async {
        let other_ran = Rc::new(Cell::new(false));
        let looping = {
            let other_ran = Rc::clone(&other_ran);
            eddy::spawn(async move {
                let mut rounds = 0u64;
                while !other_ran.get() && rounds < GIVE_UP_AFTER {
                    sleep(Duration::ZERO).await;
                    rounds += 1;
                }
                other_ran.get()
            })
        };
        let other = {
            let other_ran = Rc::clone(&other_ran);
            eddy::spawn(async move { other_ran.set(true) })
        };
        other.await.unwrap();
        looping.await.unwrap()
    });
    assert!(other_ran_first);
}

/// A loop that races many expired sleeps, first ready wins
/// (`select_all`), and re-arms the one that fired at once (a scheduler of
/// many timers running behind): it still yields whenever the task's budget
/// runs out, so a task that becomes ready after the loop's first yield
/// still runs. Before, each sleep's "yielded once" mark of finding 60 was
/// set and used up within the same poll: each round marked every sleep
/// before the first marked one and cleared that one, a binary counter
/// counting down, so 40 sleeps went on for 2^40 rounds between two yields.
#[test]
fn a_loop_racing_many_expired_sleeps_still_yields() {
    use futures_util::future::select_all;
    // Far more rounds than the loop needs to run out of budget and yield
    // a few times; if it does not yield, it gives up after this many and
    // the assertion fails.
    const GIVE_UP_AFTER: u64 = 1_000_000;
    const SLEEPS: usize = 40;
    let rounds = run_bounded(Duration::from_secs(120), || async {
        let other_ran = Rc::new(Cell::new(false));
        let racing = eddy::spawn({
            let other_ran = Rc::clone(&other_ran);
            async move {
                let mut sleeps: Vec<Sleep> = (0..SLEEPS).map(|_| sleep(Duration::ZERO)).collect();
                let mut rounds = 0u64;
                while !other_ran.get() && rounds < GIVE_UP_AFTER {
                    let ((), fired, _) = select_all(sleeps.iter_mut()).await;
                    Pin::new(&mut sleeps[fired]).reset(Instant::now());
                    rounds += 1;
                }
                rounds
            }
        });
        // Runs once the racing loop has yielded a few times.
        let other = eddy::spawn({
            let other_ran = Rc::clone(&other_ran);
            async move {
                for _ in 0..3 {
                    eddy::task::yield_now().await;
                }
                other_ran.set(true);
            }
        });
        let rounds = racing.await.unwrap();
        other.await.unwrap();
        rounds
    });
    assert!(
        rounds < GIVE_UP_AFTER,
        "{rounds} rounds racing {SLEEPS} expired sleeps never let the other task run"
    );
}

/// A loop of receives each under `timeout_at` one deadline (a reader
/// that waits for datagrams until a session deadline, then keeps checking
/// whether another task told it to stop) on a socket with nothing to
/// receive: once the deadline has passed, every `timeout_at` elapses at
/// once. The loop must still yield, so the task that tells it to stop
/// runs. Before, `Timeout` polled its deadline without spending the
/// budget, and the receive spends nothing while it waits: no poll of the
/// loop ever returned `Pending`, and no other task ran again.
#[test]
#[cfg_attr(miri, ignore = "Miri: no datagram sockets")]
fn a_loop_of_timeouts_that_have_elapsed_still_yields() {
    // Far more rounds than the loop needs to run out of budget and yield
    // a few times; if it never yields, it gives up after this many.
    const GIVE_UP_AFTER: u64 = 1_000_000;
    let rounds = run_bounded(Duration::from_secs(120), || async {
        let socket = eddy::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let stop = Rc::new(Cell::new(false));
        let reading = eddy::spawn({
            let stop = Rc::clone(&stop);
            async move {
                let deadline = Instant::now();
                let mut buf = [0u8; 16];
                let mut rounds = 0u64;
                while !stop.get() && rounds < GIVE_UP_AFTER {
                    let elapsed =
                        eddy::time::timeout_at(deadline, socket.recv_from(&mut buf)).await;
                    assert!(elapsed.is_err(), "a datagram came from nowhere");
                    rounds += 1;
                }
                rounds
            }
        });
        let stopping = eddy::spawn(async move { stop.set(true) });
        let rounds = reading.await.unwrap();
        stopping.await.unwrap();
        rounds
    });
    assert!(
        rounds < GIVE_UP_AFTER,
        "{rounds} timeouts that had elapsed, in a loop, never let the other task run"
    );
}

#[test]
fn timeout_fires_around_a_future_that_spends_its_whole_budget() {
    // The inner future only ever completes expired sleeps, so each poll it
    // runs until the cooperative budget is gone. The deadline must fire
    // anyway. Bounded: if it never fires, the inner future gives up and
    // returns Ok, failing the assertion.
    const GIVE_UP_AFTER: u64 = 5_000_000;
    let result = eddy::run(async {
        eddy::spawn(timeout(ms(20), async {
            let mut rounds = 0u64;
            while rounds < GIVE_UP_AFTER {
                sleep(Duration::ZERO).await;
                rounds += 1;
            }
            rounds
        }))
        .await
        .unwrap()
    });
    assert!(result.is_err(), "expected Elapsed, got {result:?}");
}

/// Reads 16 bytes at a time from a stream whose peer (a plain thread)
/// never stops sending, until `give_up_after` reads: each poll of it reads
/// until the task's cooperative budget is spent, then yields.
async fn read_a_flood(give_up_after: u64) -> &'static str {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let flooding = std::thread::spawn(move || {
        use std::io::Write;
        let mut peer = peer;
        // Ends when the reader's stream closes under a blocked write.
        while peer.write_all(&[7; 64 * 1024]).is_ok() {}
    });
    let mut stream = eddy::net::TcpStream::from_std(listener.accept().unwrap().0).unwrap();
    let mut buf = [0u8; 16];
    for _ in 0..give_up_after {
        assert_ne!(stream.read(&mut buf).await.unwrap(), 0, "the flood ended");
    }
    drop(stream);
    flooding.join().unwrap();
    "the reads gave up"
}

/// A sleep and an interval's tick raced (`select`, `or`: the first branch
/// polled first) against a loop that spends the task's whole budget every
/// poll, here reads of a stream that is always readable, still fire: the
/// session limit or the keep-alive tick of a connection handler whose
/// peer floods it. Before, the expired sleep found the budget spent at
/// every poll, yielded, and at the next poll the reads spent it again
/// first: the timer never fired while the flood went on. (`Timeout`
/// polls its deadline unbudgeted when its own inner future spent the
/// budget; raced after another future, it relies on the same mark.)
#[test]
fn a_sleep_or_tick_raced_after_an_always_ready_read_loop_still_fires() {
    use futures_util::future::{Either, select};
    // Bounded: far more reads than the 20 ms the timers wait for can
    // hold (each is a syscall); if the timer starves, the reads win.
    const GIVE_UP_AFTER: u64 = 2_000_000;
    run_bounded(Duration::from_secs(120), || async {
        let slept = select(Box::pin(read_a_flood(GIVE_UP_AFTER)), sleep(ms(20))).await;
        assert!(
            matches!(slept, Either::Right(_)),
            "the sleep never fired beside an always-ready read loop"
        );
        drop(slept);

        let mut every = interval_at(Instant::now() + ms(20), ms(20));
        let reads = Box::pin(read_a_flood(GIVE_UP_AFTER));
        let ticked = select(reads, Box::pin(every.tick())).await;
        assert!(
            matches!(ticked, Either::Right(_)),
            "the interval never ticked beside an always-ready read loop"
        );
        drop(ticked);

        // A timeout raced the same way, around a receive that waits: its
        // inner future spends nothing, so its deadline is budgeted, and
        // fires on the `Sleep`'s mark at the poll after its refusal.
        let socket = eddy::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = [0u8; 16];
        let reads = Box::pin(read_a_flood(GIVE_UP_AFTER));
        let timed_out = select(reads, Box::pin(timeout(ms(20), socket.recv_from(&mut buf)))).await;
        assert!(
            matches!(timed_out, Either::Right((Err(_), _))),
            "the timeout never elapsed beside an always-ready read loop"
        );
    });
}
