//! Connecting and resolving: refused and dropped connects, address lists,
//! and `lookup_host`.

use std::io::{self};
use std::net::SocketAddr;

use eddy::net::{TcpListener, TcpStream};
use eddy::time::timeout;
use eddy_tests::{block_on_parked, run_bounded};

use crate::{LIMIT, ms};

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_REUSEPORT")]
fn connecting_to_a_closed_port_is_refused_with_the_os_error() {
    run_bounded(LIMIT, || async {
        // A port that is bound but where nobody listens. (Bound and then
        // dropped, a port could be bound again, by a listener of a test
        // running in parallel, before the connect reached it.)
        let bound = std::net::TcpListener::from(reuse_port_socket(0));
        let closed = bound.local_addr().expect("local_addr");
        let error = TcpStream::connect(closed)
            .await
            .expect_err("nobody listens there");
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{error}");
        // The kernel's own error, as `SO_ERROR` gives it (and std's blocking
        // connect): skipping `SO_ERROR` still failed the connect, with a
        // `ConnectionRefused` of eddy's making, which every other failure
        // (a timeout, an unreachable host) would have shared.
        assert_eq!(error.raw_os_error(), Some(libc::ECONNREFUSED), "{error}");
    });
}

/// A TCP socket on 127.0.0.1 bound to `port` (0: any) with `SO_REUSEPORT`,
/// not listening. Two such sockets share a port; one that never listens
/// keeps the port taken after a listener beside it closes, so nobody else
/// (another test binding port 0, another process) can start listening there
/// while a connect still sends SYNs to it: they all meet a closed port.
fn reuse_port_socket(port: u16) -> std::os::fd::OwnedFd {
    #[cfg(not(target_vendor = "apple"))]
    const SOCK_CLOEXEC: libc::c_int = libc::SOCK_CLOEXEC;
    #[cfg(target_vendor = "apple")]
    const SOCK_CLOEXEC: libc::c_int = 0;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    // SAFETY: socket(2) takes no pointers; a descriptor it returns is new
    // and owned by nothing else, so `OwnedFd` may own it.
    let socket = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", io::Error::last_os_error());
        OwnedFd::from_raw_fd(fd)
    };
    // macOS has no `SOCK_CLOEXEC`: the flag goes on afterwards, so that a
    // child process another test starts meanwhile may inherit the socket
    // (and keep the port) until it execs.
    #[cfg(target_vendor = "apple")]
    {
        // SAFETY: fcntl(2) with `F_SETFD` takes an int argument, no
        // pointer; the descriptor is open for the call.
        let rc = unsafe { libc::fcntl(socket.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
        assert_eq!(rc, 0, "FD_CLOEXEC: {}", io::Error::last_os_error());
    }
    let on: libc::c_int = 1;
    // SAFETY: `on` is the `c_int` this option takes, and the length passed
    // is its size; the descriptor is open for the call.
    let set = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_REUSEPORT,
            (&raw const on).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(set, 0, "SO_REUSEPORT: {}", io::Error::last_os_error());
    // SAFETY: all-zero bytes are a valid `sockaddr_in`; the fields that
    // matter are set below.
    let mut addr: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    addr.sin_family = libc::AF_INET as libc::sa_family_t;
    addr.sin_port = port.to_be();
    addr.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
    // SAFETY: `addr` is a `sockaddr_in` and the length passed is its size;
    // the descriptor is open for the call.
    let bound = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            (&raw const addr).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    assert_eq!(bound, 0, "bind: {}", io::Error::last_os_error());
    socket
}

/// A listener whose accept queue is full, and the connection that fills
/// it: with a backlog of 0 the queue holds one connection, and Linux drops
/// the SYNs of later connects, which wait and retransmit. The listener has
/// `SO_REUSEPORT`, so that [`reuse_port_socket`] can keep its port.
async fn listener_with_a_full_queue() -> (std::net::TcpListener, TcpStream) {
    use std::os::fd::AsRawFd;
    let listener = std::net::TcpListener::from(reuse_port_socket(0));
    // SAFETY: the descriptor is the listener's, open for the call.
    let listened = unsafe { libc::listen(listener.as_raw_fd(), 0) };
    assert_eq!(listened, 0, "listen: {}", io::Error::last_os_error());
    let addr = listener.local_addr().unwrap();
    let queued = TcpStream::connect(addr).await.expect("the queued connect");
    // Wait until the kernel has queued it (the listener turns readable),
    // so that the queue is full before the next SYN comes.
    let mut poll_fd = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `poll_fd` is one valid `pollfd`, the count passed is 1, and
    // its descriptor is the listener's, open for the call.
    let polled = unsafe { libc::poll(&mut poll_fd, 1, -1) };
    assert_eq!(polled, 1, "poll: {}", io::Error::last_os_error());
    (listener, queued)
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_REUSEPORT")]
fn a_connect_refused_while_it_waits_for_an_answer_fails_with_connection_refused() {
    run_bounded(LIMIT, || async {
        let (listener, _queued) = listener_with_a_full_queue().await;
        let addr = listener.local_addr().unwrap();
        let pending = eddy::spawn(TcpStream::connect(addr));
        for _ in 0..10 {
            eddy::task::yield_now().await;
        }
        assert!(!pending.is_finished(), "the second connect waits");
        // Its next SYN, a second or more from now, meets a closed port: the
        // refusal arrives while the connect waits (as SO_ERROR), not from
        // the connect(2) call. The port stays taken meanwhile: freed, it
        // was now and then bound by a listener elsewhere (tests running in
        // parallel bind port 0 all the time), which accepted the connect.
        let _port_kept = reuse_port_socket(addr.port());
        drop(listener);
        let error = pending
            .await
            .expect("the connect task")
            .expect_err("refused");
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{error}");
    });
}

/// A connect with no answer yet waits through every turn of the driver,
/// and succeeds once the listener has room. Writable readiness without a
/// connection (a spurious event: mio says to wait for the next one) used
/// to fail it with an eddy-made `ConnectionRefused` "connection failed".
/// Linux's epoll never reports a connecting socket writable, so only
/// `scripts/faults/run`, which injects spurious events into every turn,
/// provokes that; this test is its case there, and here it proves the wait.
#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_REUSEPORT")]
fn a_connect_waiting_for_an_answer_waits_through_driver_turns_until_it_is_accepted() {
    run_bounded(LIMIT, || async {
        let (listener, _queued) = listener_with_a_full_queue().await;
        let addr = listener.local_addr().unwrap();
        let pending = eddy::spawn(TcpStream::connect(addr));
        // Turns of the driver, each of which (under the fault shim) may
        // report the waiting socket ready when it is not.
        for _ in 0..50 {
            eddy::time::sleep(ms(1)).await;
        }
        assert!(!pending.is_finished(), "the connect waits for an answer");
        // Room in the queue: the connect's next SYN is answered.
        let (first, _) = listener.accept().expect("accept the queued connection");
        drop(first);
        let stream = pending
            .await
            .expect("the connect task")
            .expect("the connect, once the listener had room");
        assert_eq!(stream.peer_addr().expect("peer_addr"), addr);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_REUSEPORT")]
fn connects_dropped_while_they_wait_leave_no_registration_behind() {
    run_bounded(LIMIT, || async {
        // Live and not deregistered: a deregistered source is released on
        // the driver's next turn, and counted until then.
        let live = || {
            let metrics = eddy::Handle::current().metrics();
            metrics.registrations_live - metrics.registrations_pending_release
        };
        let (listener, _queued) = listener_with_a_full_queue().await;
        let baseline = live();
        for _ in 0..50 {
            // The way a connect usually ends early: its timeout wins.
            let connect = TcpStream::connect(listener.local_addr().unwrap());
            let result = timeout(ms(1), connect).await;
            assert!(result.is_err(), "a connect to a full queue got an answer");
        }
        // Each dropped connect deregistered (and closed) its socket.
        assert_eq!(live(), baseline, "registrations of dropped connects");
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_REUSEPORT, no child processes")]
fn connects_dropped_at_random_points_leave_no_descriptor_behind() {
    // Its own process: the descriptor count is the process's, and tests
    // running in parallel open and close descriptors all the time.
    eddy_tests::child_process::run_alone(drop_connects_and_count_descriptors);
}

/// The child's side: connects to a full queue (they wait for an answer
/// that never comes) dropped after 1-4 polls or a 0-2 ms timeout, and
/// connects to an open listener dropped at random points, some of which
/// completed; then the process's descriptors and the runtime's
/// registrations are back where they were.
fn drop_connects_and_count_descriptors() {
    eddy::run(async {
        let live = || {
            let metrics = eddy::Handle::current().metrics();
            metrics.registrations_live - metrics.registrations_pending_release
        };
        let (full, _queued) = listener_with_a_full_queue().await;
        let open = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let targets = [full.local_addr().unwrap(), open.local_addr().unwrap()];
        let descriptors = eddy_tests::open_descriptors();
        let registrations = live();
        let seed = 0x9E37_79B9;
        let mut rng = eddy_tests::XorShift(seed);
        let mut completed = 0;
        for round in 0..300 {
            let target = targets[rng.index(targets.len())];
            let connect = TcpStream::connect(target);
            if let Some(result) = drop_at_random_for_connect(&mut rng, connect).await {
                // Only the open listener answers; the stream is dropped.
                let stream = result.unwrap_or_else(|e| panic!("round {round}: connect: {e}"));
                assert_eq!(stream.peer_addr().unwrap(), targets[1]);
                completed += 1;
            }
            // Connections the open listener queued are accepted and closed.
            while let Ok(Some(accepted)) = timeout(ms(0), open.accept()).await.map(Result::ok) {
                drop(accepted);
            }
        }
        assert_eq!(
            live(),
            registrations,
            "seed {seed:#x}: registrations of dropped connects"
        );
        assert_eq!(
            eddy_tests::open_descriptors(),
            descriptors,
            "seed {seed:#x}: descriptors of dropped connects ({completed} completed)"
        );
    });
}

/// Polls `connect` one to four times or until a timer of up to 2 ms
/// fires, and drops it if still pending.
async fn drop_at_random_for_connect<F: std::future::Future>(
    rng: &mut eddy_tests::XorShift,
    connect: F,
) -> Option<F::Output> {
    if rng.below(2) == 0 {
        timeout(std::time::Duration::from_micros(rng.below(2_000)), connect)
            .await
            .ok()
    } else {
        eddy_tests::poll_at_most(1 + rng.below(4), connect).await
    }
}

#[test]
fn lookup_host_resolves_a_name_on_the_blocking_pool_and_the_addresses_connect() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_eq!(eddy::Handle::current().metrics().blocking_threads, 0);
        let addrs: Vec<SocketAddr> = eddy::net::lookup_host(format!("localhost:{port}"))
            .await
            .expect("localhost did not resolve")
            .collect();
        assert!(
            eddy::Handle::current().metrics().blocking_threads >= 1,
            "the lookup ran on the runtime's thread, not the blocking pool"
        );
        let loopback = SocketAddr::from(([127, 0, 0, 1], port));
        assert!(addrs.contains(&loopback), "localhost gave {addrs:?}");
        let (stream, accepted) =
            futures_util::future::join(TcpStream::connect(loopback), listener.accept()).await;
        assert_eq!(
            stream.unwrap().local_addr().unwrap(),
            accepted.unwrap().1,
            "the connection and the accepted peer disagree"
        );
    });
}

#[test]
fn lookup_host_of_a_name_without_a_port_is_an_error() {
    run_bounded(LIMIT, || async {
        let error = eddy::net::lookup_host("localhost")
            .await
            .expect_err("a host with no port resolved");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error}");
    });
}

#[test]
fn lookup_host_outside_a_runtime_is_an_error_not_a_panic() {
    let error = block_on_parked(eddy::net::lookup_host("localhost:80"))
        .expect_err("a lookup with no runtime to run it");
    // It names the call, not "an I/O object" (a lookup creates none).
    assert!(
        error
            .to_string()
            .contains("lookup_host must be called inside an eddy runtime"),
        "unhelpful error: {error}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_REUSEPORT")]
fn connect_goes_on_to_the_next_address_when_one_refuses() {
    run_bounded(LIMIT, || async {
        // Bound with nobody listening: refused, and not reusable meanwhile.
        let bound = std::net::TcpListener::from(reuse_port_socket(0));
        let closed = bound.local_addr().expect("local_addr");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let open = listener.local_addr().expect("local_addr");
        let stream = TcpStream::connect(&[closed, open][..])
            .await
            .expect("the second address listens");
        assert_eq!(stream.peer_addr().expect("peer_addr"), open);
    });
}
