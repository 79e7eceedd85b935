//! hyper 1.x serving HTTP/1.1 "Hello, world!" on eddy.
//!
//! ```sh
//! cargo run --release -p eddy-hyper-example --example hyper_hello                    # 127.0.0.1:3000
//! cargo run --release -p eddy-hyper-example --example hyper_hello -- --addr 0.0.0.0:8080
//! ```
//!
//! Then `curl -v http://127.0.0.1:3000/`, or load it with
//! `wrk -t1 -c50 -d5s http://127.0.0.1:3000/`. Ctrl-C stops it.

use std::io;
use std::process::exit;

use eddy::net::TcpListener;
use eddy_hyper_example::{http1_builder, serve};

fn main() -> io::Result<()> {
    let addr = addr_flag();
    eddy::run(async {
        let listener = TcpListener::bind(&addr).await?;
        let addr = listener.local_addr()?;
        println!("listening on {addr}");
        println!("try:  curl -v http://{addr}/");
        println!("load: wrk -t1 -c50 -d5s http://{addr}/");
        serve(listener, http1_builder()).await
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
