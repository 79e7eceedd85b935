//! A connected pair of TCP sockets over loopback.

use eddy::net::{TcpListener, TcpStream};

/// Connects to `listener` (bound on 127.0.0.1) and accepts that connection:
/// returns (client end, server end).
///
/// # Panics
///
/// Panics if the listener has no address, or the connect or the accept
/// fails.
pub async fn tcp_pair(listener: &TcpListener) -> (TcpStream, TcpStream) {
    let addr = listener.local_addr().expect("local_addr");
    let client = TcpStream::connect(addr).await.expect("connect");
    let (server, _) = listener.accept().await.expect("accept");
    (client, server)
}
