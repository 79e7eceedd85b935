//! [`close_on_pool`]: closing a lingering TCP stream without stalling the
//! runtime.

use crate::runtime::context;

/// Closes a TCP stream that has left the driver and may linger, on the
/// blocking pool.
///
/// With `SO_LINGER` on and a non-zero interval, Linux's `close(2)` waits
/// until the peer has acknowledged everything still unsent, up to the
/// interval, although the socket is non-blocking. On the runtime's thread
/// that held up every task for as long as the peer did not read (tokio
/// deprecated its `set_linger` for this), so `TcpStream`'s `Drop` sends a
/// stream it knows to linger here, where the wait costs one pool thread.
///
/// Dropped off any runtime (on a plain thread), or when the pool takes no
/// more jobs (the runtime is shutting down) or cannot start a thread, the
/// stream closes here after all: the dropping thread waits, as it would
/// for a std stream.
pub(crate) fn close_on_pool(stream: mio::net::TcpStream) {
    let Some(pool) = context::with_core(|core| core.shared().blocking().clone()) else {
        return;
    };
    // A job the pool refuses is dropped before `spawn` returns, and the
    // stream in it is closed here.
    let _refused = pool.spawn(Box::new(move || drop(stream)));
}
