//! Sockets without a runtime: ones that outlived theirs, and ones created
//! outside any.

use std::path::Path;

use eddy::net::{UnixDatagram, UnixListener, UnixStream};
use eddy_tests::{assert_no_runtime_error, with_deadline};

use crate::{LIMIT, TempDir};

#[test]
fn sockets_that_outlived_their_runtime_fail_with_the_shutdown_error() {
    let dir = TempDir::new();
    let path = dir.join("orphan.sock");
    with_deadline(LIMIT, move || {
        let runtime = eddy::Runtime::new().expect("runtime");
        let (listener, (mut stream, _peer), (datagram, _other)) = runtime.block_on(async {
            let listener = UnixListener::bind(&path).expect("bind");
            let pair = UnixStream::pair().expect("pair");
            let datagrams = UnixDatagram::pair().expect("datagram pair");
            (listener, pair, datagrams)
        });
        drop(runtime);

        let mut buf = [0u8; 8];
        let error = eddy::run(listener.accept()).expect_err("the runtime is gone");
        assert!(eddy::is_shutdown_error(&error), "accept: {error}");
        let error = eddy::run(stream.read(&mut buf)).expect_err("gone");
        assert!(eddy::is_shutdown_error(&error), "read: {error}");
        let error = eddy::run(stream.write_all(b"x")).expect_err("gone");
        assert!(eddy::is_shutdown_error(&error), "write_all: {error}");
        let error = stream.try_read(&mut buf).expect_err("gone");
        assert!(eddy::is_shutdown_error(&error), "try_read: {error}");
        let error = eddy::run(datagram.recv(&mut buf)).expect_err("gone");
        assert!(eddy::is_shutdown_error(&error), "recv: {error}");
    });
}

#[test]
fn creating_sockets_outside_a_runtime_is_an_error_not_a_panic() {
    let dir = TempDir::new();
    let listener_path = dir.join("listener.sock");
    let datagram_path = dir.join("datagram.sock");
    assert_no_runtime_error(UnixStream::pair(), "UnixStream::pair");
    assert_no_runtime_error(UnixDatagram::pair(), "UnixDatagram::pair");
    assert_no_runtime_error(UnixDatagram::unbound(), "UnixDatagram::unbound");
    assert_no_runtime_error(UnixListener::bind(&listener_path), "UnixListener::bind");
    assert_no_runtime_error(UnixDatagram::bind(&datagram_path), "UnixDatagram::bind");
    // The failed binds removed the socket files they had created.
    assert!(
        !Path::new(&listener_path).exists(),
        "listener file left behind"
    );
    assert!(
        !Path::new(&datagram_path).exists(),
        "datagram file left behind"
    );
}
