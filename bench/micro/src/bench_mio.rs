//! The registration-churn baseline on bare mio: the OS work alone
//! (`epoll_ctl` ADD and DEL), with no readiness state to allocate.

use std::io;

use mio::{Interest, Poll, Token};

use crate::{Bench, churn_socket};

/// Runs `bench` with `n` operations; only `regchurn` exists for mio.
pub(crate) fn run(bench: Bench, n: u64) -> io::Result<()> {
    if bench != Bench::RegChurn {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "--rt mio runs only --bench regchurn",
        ));
    }
    let poll = Poll::new()?;
    let mut socket = mio::net::UdpSocket::from_std(churn_socket()?);
    for _ in 0..n {
        poll.registry()
            .register(&mut socket, Token(0), Interest::READABLE)?;
        poll.registry().deregister(&mut socket)?;
    }
    Ok(())
}
