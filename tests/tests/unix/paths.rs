//! Socket files and addresses: binding a taken path, the file a dropped
//! listener leaves, paths too long, missing paths, and what `local_addr`
//! and `peer_addr` report.

use std::io;

use eddy::net::{UnixDatagram, UnixListener, UnixStream};
use eddy_tests::run_bounded;

use crate::{LIMIT, TempDir};

#[test]
fn binding_an_existing_path_fails_with_addr_in_use() {
    let dir = TempDir::new();
    let path = dir.join("taken.sock");
    run_bounded(LIMIT, move || async move {
        let _listener = UnixListener::bind(&path).expect("bind");
        let error = UnixListener::bind(&path).expect_err("path taken");
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
        let error = UnixDatagram::bind(&path).expect_err("path taken");
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
    });
}

#[test]
fn a_dropped_listener_leaves_its_socket_file_which_refuses_connections_until_removed() {
    let dir = TempDir::new();
    let path = dir.join("left.sock");
    run_bounded(LIMIT, move || async move {
        drop(UnixListener::bind(&path).expect("bind"));
        // As with std and tokio: the file stays, nobody listens behind it.
        assert!(path.exists(), "the socket file is left behind");
        let error = UnixStream::connect(&path)
            .await
            .expect_err("nobody listens");
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{error}");
        let error = UnixListener::bind(&path).expect_err("the file is there");
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse, "{error}");
        std::fs::remove_file(&path).expect("remove the socket file");
        let listener = UnixListener::bind(&path).expect("bind after removing it");
        let _client = UnixStream::connect(&path).await.expect("connect");
        listener.accept().await.expect("accept");
    });
}

#[test]
fn paths_too_long_for_a_socket_address_are_invalid_input_errors() {
    let dir = TempDir::new();
    let long = dir.join(&"x".repeat(200));
    run_bounded(LIMIT, move || async move {
        let kind = |result: io::Result<()>| result.expect_err("too long").kind();
        let invalid = io::ErrorKind::InvalidInput;
        assert_eq!(kind(UnixListener::bind(&long).map(drop)), invalid);
        assert_eq!(kind(UnixStream::connect(&long).await.map(drop)), invalid);
        assert_eq!(kind(UnixDatagram::bind(&long).map(drop)), invalid);
        let socket = UnixDatagram::unbound().expect("unbound");
        assert_eq!(kind(socket.send_to(b"x", &long).await.map(drop)), invalid);
        assert_eq!(kind(socket.connect(&long)), invalid);
        assert!(!long.exists(), "no file was made");
    });
}

#[test]
fn addresses_are_paths_for_bound_sockets_and_unnamed_for_the_rest() {
    let dir = TempDir::new();
    let path = dir.join("named.sock");
    run_bounded(LIMIT, move || async move {
        let listener = UnixListener::bind(&path).expect("bind");
        assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(&*path));
        let client = UnixStream::connect(&path).await.expect("connect");
        let (server, peer) = listener.accept().await.expect("accept");
        assert!(peer.is_unnamed(), "a connecting socket binds no path");
        assert!(client.local_addr().unwrap().is_unnamed());
        assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(&*path));
        assert_eq!(server.local_addr().unwrap().as_pathname(), Some(&*path));
        assert!(server.peer_addr().unwrap().is_unnamed());
        let (a, b) = UnixStream::pair().expect("pair");
        assert!(a.local_addr().unwrap().is_unnamed() && b.peer_addr().unwrap().is_unnamed());
    });
}

/// Linux's abstract names (no file) reach eddy through `from_std`, and its
/// addresses report them.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn abstract_addresses_come_through_from_std() {
    run_bounded(LIMIT, || async {
        #[cfg(target_os = "android")]
        use std::os::android::net::SocketAddrExt;
        #[cfg(target_os = "linux")]
        use std::os::linux::net::SocketAddrExt;
        let name = format!("eddy-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
            .expect("abstract name");
        let std_listener = std::os::unix::net::UnixListener::bind_addr(&addr).expect("bind");
        let listener = UnixListener::from_std(std_listener).expect("from_std");
        let std_client = std::os::unix::net::UnixStream::connect_addr(&addr).expect("connect");
        let client = UnixStream::from_std(std_client).expect("from_std");
        let (server, _) = listener.accept().await.expect("accept");
        let abstract_name =
            |addr: std::os::unix::net::SocketAddr| addr.as_abstract_name().map(<[u8]>::to_vec);
        let expected = Some(name.into_bytes());
        assert_eq!(abstract_name(listener.local_addr().unwrap()), expected);
        assert_eq!(abstract_name(client.peer_addr().unwrap()), expected);
        assert_eq!(abstract_name(server.local_addr().unwrap()), expected);
    });
}

#[test]
fn connecting_to_a_missing_path_fails() {
    let dir = TempDir::new();
    let path = dir.join("nobody.sock");
    run_bounded(LIMIT, move || async move {
        let error = UnixStream::connect(&path).await.expect_err("no listener");
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    });
}
