//! hyper 1.x serving HTTP/1.1 "Hello, world!" on eddy.
//!
//! ```sh
//! cargo run --release -p eddy-hyper-example --example hyper_hello                    # 127.0.0.1:3000
//! cargo run --release -p eddy-hyper-example --example hyper_hello -- --addr 0.0.0.0:8080
//! ```
//!
//! Then `curl -v http://127.0.0.1:3000/`, or load it with
//! `wrk -t1 -c50 -d5s http://127.0.0.1:3000/`. Ctrl-C stops it.

use std::future::{Future, poll_fn};
use std::io;
use std::pin::pin;
use std::process::exit;
use std::task::Poll;

use eddy::net::TcpListener;
use eddy::signal::unix::{SignalKind, signal};
use eddy_hyper_example::{http1_builder, serve};

fn main() -> io::Result<()> {
    let addr = addr_flag();
    eddy::run(async {
        let listener = TcpListener::bind(&addr).await?;
        // Listening for Ctrl-C before the address is announced: a SIGINT
        // sent as soon as the line appears stops the server cleanly
        // (status 0) instead of killing it, also when it was started in
        // the background, where the shell makes it ignore SIGINT.
        let mut interrupts = signal(SignalKind::interrupt())?;
        let addr = listener.local_addr()?;
        println!("listening on {addr}");
        println!("try:  curl -v http://{addr}/");
        println!("load: wrk -t1 -c50 -d5s http://{addr}/");
        let mut stopped = pin!(interrupts.recv());
        let mut serving = pin!(serve(listener, http1_builder()));
        poll_fn(|cx| {
            if stopped.as_mut().poll(cx).is_ready() {
                println!("hyper_hello: stopped by Ctrl-C");
                return Poll::Ready(Ok(()));
            }
            serving.as_mut().poll(cx)
        })
        .await
    })
}

/// The value of `--addr`, or the default `127.0.0.1:3000`. Anything else
/// on the command line is a usage error, not silently ignored.
fn addr_flag() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => "127.0.0.1:3000".to_string(),
        [flag, addr] if flag == "--addr" => addr.clone(),
        _ => {
            eprintln!("usage: hyper_hello [--addr HOST:PORT]");
            exit(2);
        }
    }
}
