//! Idle load: open C connections one after another, echo once on each (so the
//! server has accepted it and touched its buffer), then hold them all open
//! without traffic while the runner reads the server's RSS.

use std::io::{self, Read, Write};
use std::time::Instant;

use crate::config::Config;

/// Opens the connections, prints `idle_ready conns=C`, then sleeps `--hold`.
pub(crate) fn run(cfg: &Config) -> io::Result<()> {
    let msg = vec![7u8; cfg.size];
    let mut back = vec![0u8; cfg.size];
    let started = Instant::now();
    let mut conns = Vec::with_capacity(cfg.conns);
    for _ in 0..cfg.conns {
        let mut stream = std::net::TcpStream::connect(cfg.addr)?;
        stream.set_nodelay(true)?;
        stream.write_all(&msg)?;
        stream.read_exact(&mut back)?;
        conns.push(stream);
    }
    println!(
        "idle_ready conns={} secs={:.3}",
        conns.len(),
        started.elapsed().as_secs_f64()
    );
    std::thread::sleep(cfg.hold);
    drop(conns);
    Ok(())
}
