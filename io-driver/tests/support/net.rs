//! Real loopback sockets for the tests.

use std::net::{TcpListener, TcpStream};

/// A connected TCP pair on 127.0.0.1, both ends non-blocking mio streams.
/// The connection is fully established before this returns.
pub(crate) fn tcp_pair() -> (mio::net::TcpStream, mio::net::TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    for s in [&client, &server] {
        s.set_nonblocking(true).expect("nonblocking");
        s.set_nodelay(true).expect("nodelay");
    }
    (
        mio::net::TcpStream::from_std(client),
        mio::net::TcpStream::from_std(server),
    )
}

/// A listening socket on 127.0.0.1: a cheap source that produces no events
/// until someone connects to it (registered for readable only). A listener,
/// not a UDP socket, so that Miri, which emulates only stream sockets, can
/// run the tests that use it (`scripts/miri`).
pub(crate) fn quiet_listener() -> mio::net::TcpListener {
    mio::net::TcpListener::bind("127.0.0.1:0".parse().expect("addr")).expect("bind listener")
}
