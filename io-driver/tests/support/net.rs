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

/// A UDP socket on 127.0.0.1: a cheap source that produces no events unless
/// someone sends to it (registered for readable only).
pub(crate) fn udp() -> mio::net::UdpSocket {
    mio::net::UdpSocket::bind("127.0.0.1:0".parse().expect("addr")).expect("bind udp")
}
