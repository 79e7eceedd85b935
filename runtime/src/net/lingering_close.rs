//! [`close_tcp_stream`]: closing a TCP stream without stalling the runtime
//! on `SO_LINGER`.

use std::os::fd::AsFd;

use crate::runtime::context;

/// Closes a TCP stream that has left the driver, off the runtime's thread
/// if closing could block.
///
/// With `SO_LINGER` on and a non-zero interval (from
/// `TcpStream::set_linger`, set through `AsFd`, or inherited by an accepted
/// stream from its listener), Linux's `close(2)` waits until the peer has
/// acknowledged everything still unsent, up to the interval, although the
/// socket is non-blocking. On the runtime's thread that held up every task
/// for as long as the peer did not read (tokio deprecated its `set_linger`
/// for this), so such a stream is closed on the blocking pool, where the
/// wait costs one pool thread. Every other stream closes here, at once.
///
/// Dropped off any runtime (on a plain thread), or when the pool takes no
/// more jobs (the runtime is shutting down) or cannot start a thread, a
/// lingering stream closes here after all: the dropping thread waits, as
/// it would for a std stream.
pub(crate) fn close_tcp_stream(stream: mio::net::TcpStream) {
    if !crate::sys::linger_blocks_close(stream.as_fd()) {
        return;
    }
    let Some(pool) = context::with_core(|core| core.shared().blocking().clone()) else {
        return;
    };
    // A job the pool refuses is dropped before `spawn` returns, and the
    // stream in it is closed here.
    let _refused = pool.spawn(Box::new(move || drop(stream)));
}
