//! `accept` under a full descriptor table, off the runtime thread, shared by
//! several tasks, and on a socket that is not a stream listener.

use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use eddy::net::{TcpListener, TcpStream};
use eddy::time::{sleep, timeout};
use eddy_tests::child_process::child_role;
use eddy_tests::{block_on_parked, run_bounded, set_descriptor_soft_limit, tcp_echo};

use crate::{
    LIMIT, assert_child_succeeded, assert_same_bytes, payload, process_cpu_time, spawn_child,
    wait_bounded,
};

/// The child's descriptor limit: a few for stdio and the runtime, the rest
/// filled by accepted connections long before the parent's 100 are in.
const CHILD_NOFILE: libc::rlim_t = 64;
/// Connections the parent opens to fill the child's table.
const FILLERS: usize = 100;
/// Connections the parent opens after freeing the table.
const LATECOMERS: usize = 5;

#[test]
#[cfg_attr(miri, ignore = "Miri: cannot start a child process")]
fn accept_under_a_full_descriptor_table_keeps_the_listener_alive() {
    if child_role().as_deref() == Some("full_table") {
        return accept_with_a_tiny_descriptor_table();
    }
    let mut child = spawn_child("full_table");
    let addr: SocketAddr = child
        .expect_line("listening on ")
        .parse()
        .expect("an address");

    // The kernel completes these handshakes whether or not the child can
    // accept them: the excess waits in the listen backlog.
    let fillers: Vec<std::net::TcpStream> = (0..FILLERS)
        .map(|_| std::net::TcpStream::connect_timeout(&addr, LIMIT).expect("connect"))
        .collect();
    child.expect_line("table full and the accept loop idles: ");

    drop(fillers);
    for i in 0..LATECOMERS {
        let mut stream = std::net::TcpStream::connect_timeout(&addr, LIMIT).expect("connect");
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        let sent = payload(100 + i as u64, 1000);
        stream.write_all(&sent).expect("write");
        let mut back = vec![0u8; sent.len()];
        stream
            .read_exact(&mut back)
            .expect("the child serves new connections");
        assert_same_bytes(&back, &sent, "latecomer");
    }
    child.say("done");
    assert_child_succeeded(child.wait());
}

/// What the child's accept loop has seen.
#[derive(Default)]
struct AcceptStats {
    /// Connections accepted.
    accepted: Cell<usize>,
    /// `accept` calls that failed with `EMFILE`.
    emfile: Cell<u64>,
    /// Any other accept error (none is expected).
    other_errors: RefCell<Vec<String>>,
}

/// The child's side: accept with at most [`CHILD_NOFILE`] descriptors.
fn accept_with_a_tiny_descriptor_table() {
    set_descriptor_soft_limit(CHILD_NOFILE);
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        println!("listening on {}", listener.local_addr().unwrap());
        let stats = Rc::new(AcceptStats::default());
        let seen = stats.clone();
        let accepting = eddy::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        seen.accepted.set(seen.accepted.get() + 1);
                        eddy::spawn(tcp_echo(stream));
                    }
                    Err(error) if error.raw_os_error() == Some(libc::EMFILE) => {
                        seen.emfile.set(seen.emfile.get() + 1);
                    }
                    Err(error) => seen.other_errors.borrow_mut().push(error.to_string()),
                }
            }
        });

        wait_bounded("accept hit EMFILE", || stats.emfile.get() > 0).await;
        let (cpu_before, wall_before, emfile_before) =
            (process_cpu_time(), Instant::now(), stats.emfile.get());
        sleep(Duration::from_secs(1)).await;
        let cpu = process_cpu_time() - cpu_before;
        let wall = wall_before.elapsed();
        let emfile = stats.emfile.get() - emfile_before;
        assert!(
            cpu < wall / 2,
            "the accept loop spins: {cpu:?} of CPU in {wall:?} with the table full"
        );
        assert!(emfile > 0, "the accept loop stopped retrying");
        assert!(!accepting.is_finished(), "the accept loop ended");
        println!(
            "table full and the accept loop idles: {} accepted, {emfile} EMFILE in {wall:?}, {cpu:?} of CPU",
            stats.accepted.get()
        );

        // The parent closes its connections (freeing the table as the echo
        // tasks see EOF), has new ones served, then says "done".
        let line = eddy::task::spawn_blocking(|| {
            let mut line = String::new();
            io::stdin().read_line(&mut line).map(|_| line)
        })
        .await
        .expect("stdin task")
        .expect("read stdin");
        assert_eq!(line.trim(), "done");
        assert!(
            stats.accepted.get() >= FILLERS + LATECOMERS,
            "accepted only {} connections",
            stats.accepted.get()
        );
        assert!(!accepting.is_finished(), "the accept loop ended");
        assert_eq!(*stats.other_errors.borrow(), Vec::<String>::new());
    });
}

/// Connections the parent opens for the off-runtime accept test.
const OFF_RUNTIME_CLIENTS: usize = 3;

#[test]
#[cfg_attr(miri, ignore = "Miri: cannot start a child process")]
fn accept_off_the_runtime_thread_returns_exhaustion_errors_instead_of_panicking() {
    if child_role().as_deref() == Some("off_runtime_accept") {
        return accept_off_the_runtime_with_a_full_table();
    }
    let mut child = spawn_child("off_runtime_accept");
    let addr: SocketAddr = child
        .expect_line("listening on ")
        .parse()
        .expect("an address");
    // Completed by the kernel, waiting in the backlog for the child.
    let _clients: Vec<std::net::TcpStream> = (0..OFF_RUNTIME_CLIENTS)
        .map(|_| std::net::TcpStream::connect_timeout(&addr, LIMIT).expect("connect"))
        .collect();
    child.say("connected");
    child.expect_line("accept off the runtime survived a full table");
    assert_child_succeeded(child.wait());
}

/// The child's side: the listener's runtime turns on a thread of its own
/// while this thread drives `accept` with no runtime, fills its descriptor
/// table, and accepts again. The second `accept` after `EMFILE` used to
/// sleep out the backoff pause on an eddy timer, which panics off a
/// runtime thread.
fn accept_off_the_runtime_with_a_full_table() {
    set_descriptor_soft_limit(CHILD_NOFILE);
    let (send_listener, listener) = mpsc::channel();
    let stop = eddy_tests::Signal::new();
    let stop_runtime = stop.clone();
    let runtime = std::thread::spawn(move || {
        run_bounded(LIMIT, move || async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            send_listener.send(listener).expect("send the listener");
            // Keeps the driver turning until the test is done.
            stop_runtime.wait().await;
        })
    });
    let listener = listener.recv().expect("the listener");
    println!("listening on {}", listener.local_addr().unwrap());
    let mut line = String::new();
    io::stdin().read_line(&mut line).expect("read stdin");
    assert_eq!(line.trim(), "connected");

    let (first, _) = block_on_parked(listener.accept()).expect("accept before the table fills");
    let mut hogs = Vec::new();
    while let Ok(file) = std::fs::File::open("/dev/null") {
        hogs.push(file);
    }
    for attempt in ["first", "second"] {
        let error = block_on_parked(listener.accept()).expect_err("the table is full");
        assert_eq!(
            error.raw_os_error(),
            Some(libc::EMFILE),
            "{attempt} accept with a full table: {error}"
        );
    }
    drop(hogs);
    let (second, _) = block_on_parked(listener.accept()).expect("accept after the table drained");
    println!("accept off the runtime survived a full table");
    drop((first, second, listener));
    stop.set();
    runtime.join().expect("the runtime thread");
}

#[test]
fn tasks_sharing_a_listener_are_each_woken_for_a_connection() {
    run_bounded(LIMIT, || async {
        let listener = Rc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
        let addr = listener.local_addr().unwrap();
        // Two tasks wait in `accept` on the same listener before any client
        // connects: each must get a connection, none may sleep through it.
        let acceptors: Vec<_> = (0..2)
            .map(|_| {
                let listener = listener.clone();
                eddy::spawn(async move { listener.accept().await.map(|(_, peer)| peer) })
            })
            .collect();
        sleep(Duration::from_millis(20)).await;
        let _a = TcpStream::connect(addr).await.unwrap();
        let _b = TcpStream::connect(addr).await.unwrap();
        for acceptor in acceptors {
            let accepted = timeout(Duration::from_secs(10), acceptor).await;
            accepted
                .expect("an acceptor slept through its connection")
                .unwrap()
                .unwrap();
        }
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no datagram sockets")]
fn a_listener_built_from_a_datagram_socket_is_refused_instead_of_spinning() {
    use std::os::fd::OwnedFd;
    run_bounded(LIMIT, || async {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let not_a_listener = std::net::TcpListener::from(OwnedFd::from(udp));
        let err = TcpListener::from_std(not_a_listener).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    });
}

/// A stream socket that is not listening (a connected stream handed over
/// by mistake, or one that was bound but never `listen`ed) is refused too:
/// std's `accept` on it fails at once with `EINVAL`, but eddy's waited for
/// read readiness first, and a connected stream whose peer sends nothing
/// never turns readable, so the `accept` waited forever.
#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_ACCEPTCONN")]
fn a_listener_built_from_a_socket_that_is_not_listening_is_refused_instead_of_waiting() {
    use std::os::fd::OwnedFd;
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (_server, _) = listener.accept().await.unwrap();
        let std_client = client.into_std().unwrap();
        let not_a_listener = std::net::TcpListener::from(OwnedFd::from(std_client));
        match TcpListener::from_std(not_a_listener) {
            Err(error) => assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error}"),
            Ok(taken) => {
                let first = eddy_tests::poll_once(std::pin::pin!(taken.accept())).await;
                panic!(
                    "a connected stream was taken for a listener; the first poll of its \
                     accept gave {:?}",
                    first.map(|accepted| accepted.map(drop))
                );
            }
        }
    });
}
