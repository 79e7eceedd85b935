//! The socket calls eddy makes itself, each one `libc` call behind
//! `syscall!` (below): every `unsafe` the networking code needs lives here.
//!
//! Why not `socket2`? eddy used it for exactly these calls, and it cost two
//! things the benchmarks count: it sat on the critical path of a cold build
//! (about 1.1 s of the echo example's 6.3 s), and its wrappers added some 40
//! instructions to every echo round trip. What is left is one thin function
//! per call, each checked by the socket tests.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

/// Calls `libc::$fn($args)` and turns a `-1` into the thread's `errno` as
/// an `io::Error`. Every caller writes the `unsafe` block (and its
/// `// SAFETY:` comment) around it, naming what makes its arguments valid.
macro_rules! syscall {
    ($fn:ident ( $($arg:expr),* $(,)? )) => {{
        let result = libc::$fn($($arg),*);
        if result == -1 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(result)
        }
    }};
}

/// `send(2)` flags that turn a write to a vanished peer into an `EPIPE`
/// error instead of a `SIGPIPE`, which kills a process that has not
/// ignored it (Rust's `main` ignores it; a host program embedding eddy may
/// not). Apple systems have no such flag; [`prevent_sigpipe`] sets the
/// socket option `SO_NOSIGPIPE` there instead, on every socket eddy
/// registers.
#[cfg(not(target_vendor = "apple"))]
const NO_SIGPIPE: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(target_vendor = "apple")]
const NO_SIGPIPE: libc::c_int = 0;

/// The `SO_LINGER` that counts in seconds. Apple's plain `SO_LINGER`
/// counts in clock ticks, so `Some(1 s)` would linger a hundredth of that;
/// `SO_LINGER_SEC` is the one that takes seconds there.
#[cfg(not(target_vendor = "apple"))]
const SO_LINGER_SECONDS: libc::c_int = libc::SO_LINGER;
#[cfg(target_vendor = "apple")]
const SO_LINGER_SECONDS: libc::c_int = libc::SO_LINGER_SEC;

/// The most slices one `sendmsg(2)` accepts (`IOV_MAX`, which Linux's
/// headers call `UIO_MAXIOV`); std's `write_vectored` caps at it too.
#[cfg(any(target_os = "linux", target_os = "android"))]
const MAX_IOV: usize = libc::UIO_MAXIOV as usize;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const MAX_IOV: usize = libc::IOV_MAX as usize;

/// The most bytes one `recv` or `send` is asked to move. Apple's calls fail
/// with `EINVAL` above `INT_MAX`; elsewhere a count must fit an `isize`.
/// A call may always move less than it was given, so capping is invisible
/// to callers (std caps its reads and writes the same way).
#[cfg(target_vendor = "apple")]
const MAX_BUF_LEN: usize = libc::c_int::MAX as usize - 1;
#[cfg(not(target_vendor = "apple"))]
const MAX_BUF_LEN: usize = isize::MAX as usize;

/// `recv(2)` into `buf`: the read of every stream socket.
#[inline]
pub(crate) fn recv(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    let len = buf.len().min(MAX_BUF_LEN);
    // SAFETY: `buf` is valid for writes of `len <= buf.len()` bytes for the
    // whole call, and `fd` is a descriptor borrowed for it.
    let n = unsafe { syscall!(recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), len, 0)) }?;
    // `recv` returns at most `buf.len()`, never a negative count but -1.
    Ok(n as usize)
}

/// `send(2)` of `buf` without `SIGPIPE` (see [`NO_SIGPIPE`]). Plain
/// `write(2)`, which std uses for `UnixStream`, raises it.
#[inline]
pub(crate) fn send(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    let len = buf.len().min(MAX_BUF_LEN);
    // SAFETY: `buf` is valid for reads of `len <= buf.len()` bytes for the
    // whole call, and `fd` is a descriptor borrowed for it.
    let n = unsafe { syscall!(send(fd.as_raw_fd(), buf.as_ptr().cast(), len, NO_SIGPIPE)) }?;
    Ok(n as usize)
}

/// `sendmsg(2)` of `bufs` (at most the first [`MAX_IOV`]) in one call,
/// without `SIGPIPE` (std's vectored write is `writev(2)`, which raises it).
pub(crate) fn send_vectored(fd: BorrowedFd<'_>, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
    // SAFETY: `msghdr` is plain data; all zeroes is "no address, no
    // control data", which is what we send.
    let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
    // `IoSlice` is guaranteed to be ABI-compatible with `iovec` on Unix.
    message.msg_iov = bufs.as_ptr().cast_mut().cast();
    // Only the first `MAX_IOV` slices: the kernel fails a longer array with
    // `EMSGSIZE` instead of writing a prefix, and a vectored write may
    // write less than it was given. The cap also makes the cast lossless
    // where `msg_iovlen` is a `c_int` (Apple, musl) rather than a `size_t`.
    message.msg_iovlen = bufs.len().min(MAX_IOV) as _;
    // SAFETY: `message` points at `bufs`, valid for reads for the whole
    // call, and `fd` is a descriptor borrowed for it.
    let n = unsafe { syscall!(sendmsg(fd.as_raw_fd(), &message, NO_SIGPIPE)) }?;
    Ok(n as usize)
}

/// `shutdown(2)` of the write side.
pub(crate) fn shutdown_write(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: `fd` is a descriptor borrowed for the call.
    unsafe { syscall!(shutdown(fd.as_raw_fd(), libc::SHUT_WR)) }.map(drop)
}

/// Sets `SO_LINGER`: `None` turns it off; `Some(d)` makes `close` wait up
/// to `d` for unsent data, and `Some(Duration::ZERO)` makes it reset the
/// connection at once. The kernel counts whole seconds, so a non-zero `d`
/// is rounded *up*: truncating `Some(500 ms)` to zero would turn a request
/// to wait into a reset that throws the unsent data away.
pub(crate) fn set_linger(fd: BorrowedFd<'_>, linger: Option<Duration>) -> io::Result<()> {
    let value = libc::linger {
        l_onoff: libc::c_int::from(linger.is_some()),
        l_linger: linger.map_or(0, whole_seconds_up),
    };
    // SAFETY: `value` is a `linger`, the type `SO_LINGER` takes, and the
    // length passed is its size; `fd` is borrowed for the call.
    unsafe {
        syscall!(setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_LINGER_SECONDS,
            (&raw const value).cast(),
            size_of::<libc::linger>() as libc::socklen_t,
        ))
    }
    .map(drop)
}

/// Whether `close(2)` of `fd` may block: `SO_LINGER` is on with a
/// non-zero interval. Linux then waits in `close` until the peer has
/// acknowledged everything sent, up to the interval, even for a
/// non-blocking socket. `false` if the option cannot be read (not a
/// socket that lingers, as far as anyone can tell).
pub(crate) fn linger_blocks_close(fd: BorrowedFd<'_>) -> bool {
    if cfg!(miri) {
        // Miri's sockets have no `SO_LINGER` (it refuses to get or set
        // it), so none can linger; asking aborted every test that binds.
        return false;
    }
    let mut value = libc::linger {
        l_onoff: 0,
        l_linger: 0,
    };
    let mut len = size_of::<libc::linger>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid for writes, and `len` holds the
    // size of `value`, the type `SO_LINGER` returns; `fd` is borrowed for
    // the call.
    let result = unsafe {
        syscall!(getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_LINGER_SECONDS,
            (&raw mut value).cast(),
            &mut len,
        ))
    };
    result.is_ok() && value.l_onoff != 0 && value.l_linger > 0
}

/// `d` in whole seconds, rounded up, saturating at `c_int::MAX`.
fn whole_seconds_up(d: Duration) -> libc::c_int {
    let seconds = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    seconds.try_into().unwrap_or(libc::c_int::MAX)
}

/// Makes a write to a vanished peer an `EPIPE` error, never a `SIGPIPE`,
/// for every later `send` on `fd`. Apple systems have no per-call flag
/// (`NO_SIGPIPE` is 0 there) but a per-socket option, `SO_NOSIGPIPE`,
/// which mio sets on the sockets it creates but not on accepted ones, and
/// std's sockets handed to `from_std` may come from anywhere. Elsewhere
/// `send` passes `MSG_NOSIGNAL`, so there is nothing to do.
#[cfg(target_vendor = "apple")]
pub(crate) fn prevent_sigpipe(fd: BorrowedFd<'_>) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: `on` is a `c_int`, the type `SO_NOSIGPIPE` takes, and the
    // length passed is its size; `fd` is borrowed for the call.
    unsafe {
        syscall!(setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_NOSIGPIPE,
            (&raw const on).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        ))
    }
    .map(drop)
}

/// See the Apple version: `MSG_NOSIGNAL` on every `send` covers it here.
#[cfg(not(target_vendor = "apple"))]
#[inline]
pub(crate) fn prevent_sigpipe(_fd: BorrowedFd<'_>) -> io::Result<()> {
    Ok(())
}

/// Whether `fd` is a stream socket (`SO_TYPE` is `SOCK_STREAM`).
pub(crate) fn is_stream_socket(fd: BorrowedFd<'_>) -> io::Result<bool> {
    Ok(socket_int_option(fd, libc::SO_TYPE)? == libc::SOCK_STREAM)
}

/// Whether `fd` is a listening socket (`SO_ACCEPTCONN`): `listen(2)` was
/// called on it.
pub(crate) fn is_listening(fd: BorrowedFd<'_>) -> io::Result<bool> {
    Ok(socket_int_option(fd, libc::SO_ACCEPTCONN)? != 0)
}

/// Takes `fd`'s pending error (`SO_ERROR`), if any.
///
/// `#[inline]`, though only connects call it: out of line, this one new
/// function in `sys` moved the crate's codegen units so that the echo
/// round trip, which never calls it, cost 846 instructions instead of 844
/// (callgrind; `Core::tick` came out one instruction longer).
#[inline]
pub(crate) fn take_error(fd: BorrowedFd<'_>) -> io::Result<Option<io::Error>> {
    let code = socket_int_option(fd, libc::SO_ERROR)?;
    Ok((code != 0).then(|| io::Error::from_raw_os_error(code)))
}

/// The `SOL_SOCKET` option `name` of `fd`, for an option whose value is an
/// `int`.
fn socket_int_option(fd: BorrowedFd<'_>, name: libc::c_int) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid for writes, and `len` holds the
    // size of `value`, the type of every option this is called with; `fd`
    // is borrowed.
    unsafe {
        syscall!(getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            name,
            (&raw mut value).cast(),
            &mut len,
        ))
    }?;
    Ok(value)
}

/// `listen(2)` again on a listening socket, to change its backlog.
pub(crate) fn listen(fd: BorrowedFd<'_>, backlog: i32) -> io::Result<()> {
    // SAFETY: `fd` is a descriptor borrowed for the call.
    unsafe { syscall!(listen(fd.as_raw_fd(), backlog)) }.map(drop)
}

/// Whether `fd`'s open file has `O_NONBLOCK` set (`fcntl(F_GETFL)`).
pub(crate) fn is_nonblocking(fd: BorrowedFd<'_>) -> io::Result<bool> {
    // SAFETY: `F_GETFL` only reads the file's status flags; `fd` is a
    // descriptor borrowed for the call.
    let flags = unsafe { syscall!(fcntl(fd.as_raw_fd(), libc::F_GETFL)) }?;
    Ok(flags & libc::O_NONBLOCK != 0)
}
