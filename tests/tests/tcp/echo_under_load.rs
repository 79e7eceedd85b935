//! An echo server under load: 500 clients, also in one burst of connects.

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
