//! The echo every TCP server fixture runs on a connection.

use std::io;

use eddy::net::TcpStream;

/// Echoes what `stream` sends as it arrives, until the peer closes its write
/// side; returns the number of bytes echoed. A read or write error ends the
/// echo with that error (a reset peer, a runtime shut down mid-stream).
pub async fn tcp_echo(mut stream: TcpStream) -> io::Result<u64> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut echoed = 0;
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(echoed);
        }
        stream.write_all(&buf[..n]).await?;
        echoed += n as u64;
    }
}
