//! An echo server under load: 500 clients, also in one burst of connects;
//! an interactive client beside a flooding one.

use eddy::net::TcpStream;
use eddy_tests::{run_bounded, tcp_echo};

use crate::{
    LIMIT, Server, assert_same_bytes, echo_over, echo_through, ensure_fd_limit, payload,
    wait_bounded,
};

/// Clients for the load tests: a client socket and a server socket each.
const CLIENTS: usize = 500;

/// Client `i`'s payload size: the extremes first, then pseudo-random sizes
/// in between.
fn client_size(i: usize) -> usize {
    match i {
        0 => 1,
        1 => 64 * 1024,
        _ => {
            let random = u64::from_le_bytes(payload(!(i as u64), 8).try_into().unwrap());
            1 + (random % (64 * 1024)) as usize
        }
    }
}

/// Runs [`CLIENTS`] clients at once against an echo server and checks
/// every byte. With `burst`, every client connects in the same tick, before
/// the server's accept loop runs again; otherwise connects are awaited one
/// by one (letting the accept loop keep up) and only then do all clients
/// transfer at once.
async fn echo_to_many_clients(burst: bool) {
    let server = Server::start(tcp_echo).await;
    let clients: Vec<_> = if burst {
        (0..CLIENTS)
            .map(|i| {
                let sent = payload(i as u64, client_size(i));
                eddy::spawn(echo_through(server.addr, sent))
            })
            .collect()
    } else {
        let mut streams = Vec::with_capacity(CLIENTS);
        for i in 0..CLIENTS {
            let stream = TcpStream::connect(server.addr).await;
            streams.push(stream.unwrap_or_else(|e| panic!("client {i}: connect: {e}")));
        }
        (streams.into_iter().enumerate())
            .map(|(i, stream)| {
                let sent = payload(i as u64, client_size(i));
                eddy::spawn(echo_over(stream, sent))
            })
            .collect()
    };
    for (i, client) in clients.into_iter().enumerate() {
        let got = client
            .await
            .expect("client task")
            .unwrap_or_else(|e| panic!("client {i}: {e}"));
        let sent = payload(i as u64, client_size(i));
        assert_same_bytes(&got, &sent, &format!("client {i}"));
    }
    wait_bounded("every server connection ended", || {
        server.finished() == CLIENTS
    })
    .await;
    let echoed: u64 = (server.outcomes.borrow_mut().drain(..))
        .map(|outcome| outcome.expect("no panic").expect("no error"))
        .sum();
    assert_eq!(echoed, (0..CLIENTS).map(|i| client_size(i) as u64).sum());
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no getrlimit")]
fn echo_server_returns_the_exact_bytes_to_500_concurrent_clients() {
    ensure_fd_limit(2 * CLIENTS as libc::rlim_t + 100);
    run_bounded(LIMIT, || echo_to_many_clients(false));
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no getrlimit")]
fn a_burst_of_500_connects_before_the_first_accept_is_served_without_resets() {
    ensure_fd_limit(2 * CLIENTS as libc::rlim_t + 100);
    run_bounded(LIMIT, || echo_to_many_clients(true));
}

/// An echo server with one client that never stops sending (and drains
/// what comes back, so its connection stays busy both ways) and 100 idle
/// ones still serves an interactive client: its 100 round trips finish
/// while the flood goes on. A 10 ms interval ticks meanwhile, and a task
/// spawned from another thread runs. No timing is asserted, only that
/// nothing starves; each wait is bounded by the test's limit.
#[test]
#[cfg_attr(miri, ignore = "Miri: no threads writing for ever")]
fn an_interactive_client_is_served_beside_a_flooding_one_and_100_idle_ones() {
    use std::cell::Cell;
    use std::io::{Read, Write};
    use std::rc::Rc;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::time::Duration;

    ensure_fd_limit(2 * 102 + 100);
    run_bounded(LIMIT, || async {
        let server = Server::start(tcp_echo).await;
        let ticks = Rc::new(Cell::new(0u64));
        let ticking = eddy::spawn({
            let ticks = Rc::clone(&ticks);
            async move {
                let mut every = eddy::time::interval(Duration::from_millis(10));
                loop {
                    every.tick().await;
                    ticks.set(ticks.get() + 1);
                }
            }
        });
        let idle: Vec<_> = (0..100)
            .map(|_| std::net::TcpStream::connect(server.addr).unwrap())
            .collect();

        let stop = Arc::new(AtomicBool::new(false));
        let echoed = Arc::new(AtomicU64::new(0));
        let flooder = std::net::TcpStream::connect(server.addr).unwrap();
        let mut drain = flooder.try_clone().unwrap();
        let writing = std::thread::spawn({
            let stop = Arc::clone(&stop);
            let mut flooder = flooder;
            move || {
                while !stop.load(Ordering::Relaxed) {
                    flooder.write_all(&[7; 64 * 1024]).unwrap();
                }
                flooder.shutdown(std::net::Shutdown::Write).unwrap();
            }
        });
        let draining = std::thread::spawn({
            let echoed = Arc::clone(&echoed);
            move || {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match drain.read(&mut buf).unwrap() {
                        0 => return,
                        n => echoed.fetch_add(n as u64, Ordering::Relaxed),
                    };
                }
            }
        });
        wait_bounded("the flood is under way", || {
            echoed.load(Ordering::Relaxed) > 1 << 20
        })
        .await;

        let ticks_before = ticks.get();
        let echoed_before = echoed.load(Ordering::Relaxed);
        let mut interactive = TcpStream::connect(server.addr).await.unwrap();
        for i in 0..100u64 {
            let sent = payload(i, 8);
            interactive.write_all(&sent).await.unwrap();
            let mut got = [0u8; 8];
            interactive.read_exact(&mut got).await.unwrap();
            assert_same_bytes(&got, &sent, &format!("round trip {i}"));
        }
        let handle = eddy::Handle::current();
        let spawned = std::thread::spawn(move || handle.spawn(async { 42 }))
            .join()
            .unwrap();
        assert_eq!(spawned.await.unwrap(), 42);
        wait_bounded("the interval ticked during the flood", || {
            ticks.get() > ticks_before
        })
        .await;
        assert!(
            echoed.load(Ordering::Relaxed) > echoed_before && !writing.is_finished(),
            "the flood stopped during the round trips"
        );

        stop.store(true, Ordering::Relaxed);
        // The threads end once the server has echoed the rest, which it
        // does only while this task waits instead of blocking in `join`.
        wait_bounded("the flood ended", || {
            writing.is_finished() && draining.is_finished()
        })
        .await;
        writing.join().unwrap();
        draining.join().unwrap();
        ticking.abort();
        drop((interactive, idle));
    });
}
