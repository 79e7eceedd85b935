//! `#[eddy::main]` on a real `main` (this test target has no harness): it
//! passes when the program exits 0, and fails if the body panics or returns
//! `Err`, or if the macro did not produce a runnable `fn main`.

use std::error::Error;
use std::time::Duration;

use eddy::net::{TcpListener, TcpStream};

#[eddy::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // `?` on an io::Error converts into the declared Box<dyn Error>: the
    // async block's output type comes from `main`'s return type.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = eddy::spawn(async move {
        let (mut stream, _) = listener.accept().await?;
        stream.write_all(b"hello").await?;
        std::io::Result::Ok(())
    });
    let mut client = TcpStream::connect(addr).await?;
    let mut greeting = [0u8; 5];
    client.read_exact(&mut greeting).await?;
    server.await??;
    eddy::time::sleep(Duration::from_millis(1)).await;
    if &greeting != b"hello" {
        return Err(format!("unexpected greeting {greeting:?}").into());
    }
    println!("#[eddy::main] ran: greeting received over loopback");
    Ok(())
}
