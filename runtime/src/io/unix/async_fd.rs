//! [`AsyncFd`]: any non-blocking file descriptor, driven by the runtime.

use std::fmt;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::task::{Context, Poll};

use eddy_registration::{Direction, Interest};

use super::watched_fd::WatchedFd;
use crate::net::IoSource;
use crate::sys;

/// A non-blocking file descriptor that eddy's reactor watches: a pipe, an
/// `eventfd`, a `timerfd`, `inotify`, a serial port, a socket type eddy
/// does not wrap. It owns `inner` (anything [`AsFd`]), and tells when the
/// descriptor is readable or writable; the I/O itself is the caller's,
/// done in a closure (tokio's `AsyncFd`, smol's `Async`).
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
///
/// use eddy::io::unix::AsyncFd;
///
/// eddy::run(async {
///     let (a, b) = UnixStream::pair()?;
///     a.set_nonblocking(true)?;
///     b.set_nonblocking(true)?;
///     let (a, b) = (AsyncFd::new(a)?, AsyncFd::new(b)?);
///     b.write_with(|b| (&*b).write(b"ping")).await?;
///     let mut buf = [0; 4];
///     let n = a.read_with(|a| (&*a).read(&mut buf)).await?;
///     assert_eq!(&buf[..n], b"ping");
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
///
/// # Readiness is cleared only by `WouldBlock`
///
/// The reactor is edge-triggered: it reports a change (data arrived, room
/// appeared), not a state. The readiness it records stays set until an
/// operation proves it stale by failing with [`io::ErrorKind::WouldBlock`]:
/// [`read_with`](AsyncFd::read_with) and friends run their closure while
/// the direction is ready, and clear it (and wait for the next event) only
/// when the closure returns `WouldBlock`. So a closure must do its I/O
/// until the OS says `WouldBlock`, or return without having seen it and be
/// called again later: a closure that stops early and invents a
/// `WouldBlock` of its own may wait for an event that never comes, and
/// one that turns a real `WouldBlock` into something else leaves the
/// readiness set, and the next call runs at once instead of waiting.
/// [`readable`](AsyncFd::readable) and [`writable`](AsyncFd::writable)
/// only wait: I/O done through [`get_ref`](AsyncFd::get_ref) after them
/// clears nothing, so follow them with [`try_read_with`](AsyncFd::try_read_with)
/// or [`try_write_with`](AsyncFd::try_write_with).
///
/// # The descriptor must be non-blocking
///
/// `new` refuses a descriptor without `O_NONBLOCK` (`InvalidInput`): a
/// blocking `read` in a closure would stop every task of the runtime until
/// it returned. It does not set the flag itself: the flag belongs to the
/// open file, which every duplicate of the descriptor (and a process that
/// inherited one) shares, and a blocking reader elsewhere would suddenly
/// see `WouldBlock`. Set it where the descriptor is made (`O_NONBLOCK`,
/// `EFD_NONBLOCK`, `TFD_NONBLOCK`, `IN_NONBLOCK`, `pipe2`, std's
/// `set_nonblocking`), and leave it set.
///
/// Regular files and directories are refused too (`InvalidInput`): epoll
/// cannot watch them (they are always ready). Read files on the blocking
/// pool instead ([`task::spawn_blocking`](crate::task::spawn_blocking)).
///
/// # The descriptor belongs to the `AsyncFd`
///
/// While wrapped, `inner` must keep the descriptor it had when wrapped:
/// [`get_mut`](AsyncFd::get_mut) hands out `&mut T`, which could close it
/// or put another in its place, and that breaks the `AsyncFd` (tokio sets
/// the same rule). The worst that can follow is an error, never memory
/// unsafety: the reactor watches a duplicate of the descriptor that the
/// `AsyncFd` owns (one more descriptor per `AsyncFd`), made when it is
/// wrapped, and removes that one, whatever became of `inner`'s. Every
/// operation checks that `inner`'s descriptor number is still the one
/// wrapped, and fails with `InvalidInput` if not. What the check cannot
/// see is another file put under the *same* number: readiness then keeps
/// coming from the first file, which the duplicate keeps open until the
/// `AsyncFd` is dropped. Use [`into_inner`](AsyncFd::into_inner) and wrap
/// again to change the descriptor.
///
/// Because of the duplicate, the wrapped file stays open until the
/// `AsyncFd` is dropped or unwrapped even if `inner`'s descriptor was
/// closed (a pipe's other end sees no end-of-file before), and closing the
/// duplicate drops the process's `fcntl` record locks on the file, as any
/// `close` of it does.
///
/// # Runtimes and threads
///
/// An `AsyncFd` is made inside a runtime and registers with it (outside
/// one, `new` fails as the sockets' constructors do). Its readiness comes
/// from that runtime's driver, and once that runtime shuts down every
/// operation fails with the error [`crate::is_shutdown_error`] recognises.
/// It may be dropped anywhere: on another thread, or after its runtime.
/// To move the descriptor to another runtime, unwrap it with
/// [`into_inner`](AsyncFd::into_inner) and wrap it there.
pub struct AsyncFd<T: AsFd> {
    /// The duplicate the driver watches, and its registration; dropped
    /// (deregistered, closed) before `inner`.
    source: IoSource<WatchedFd>,
    /// `inner`'s descriptor number when it was wrapped.
    fd: RawFd,
    /// The user's object.
    inner: T,
}

impl<T: AsFd> AsyncFd<T> {
    /// Wraps `inner`, registering its descriptor with the runtime running
    /// on this thread for reading and writing.
    ///
    /// Fails outside a runtime; after the runtime shut down (the shutdown
    /// error); with `InvalidInput` if the descriptor is not non-blocking or
    /// is a regular file or directory; with the OS error if it cannot be
    /// duplicated (out of descriptors: `EMFILE`, unchanged, though the
    /// caller's own descriptor exists, since every `AsyncFd` takes one
    /// more for the duplicate it watches) or polled. On failure `inner` is
    /// dropped; to keep it, wrap a reference (`&T` is `AsFd` too).
    ///
    /// A descriptor that only reads or only writes (either end of a pipe, a
    /// `kqueue`) is better wrapped with [`for_reading`](AsyncFd::for_reading)
    /// or [`for_writing`](AsyncFd::for_writing): kqueue (macOS, the BSDs)
    /// may refuse to watch such a descriptor for the direction it lacks.
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        AsyncFd::with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// Wraps `inner` as [`new`](AsyncFd::new) does, watching it for reading
    /// only: waiting for it to be writable then fails with `InvalidInput`
    /// instead of waiting for an event that cannot come.
    pub fn for_reading(inner: T) -> io::Result<AsyncFd<T>> {
        AsyncFd::with_interest(inner, Interest::READABLE)
    }

    /// Wraps `inner` as [`new`](AsyncFd::new) does, watching it for writing
    /// only: waiting for it to be readable then fails with `InvalidInput`.
    pub fn for_writing(inner: T) -> io::Result<AsyncFd<T>> {
        AsyncFd::with_interest(inner, Interest::WRITABLE)
    }

    fn with_interest(inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        let fd = inner.as_fd();
        let watched = watch(fd)?;
        // A `WatchedFd` registers one descriptor, a duplicate it owns,
        // through mio's `SourceFd`, leaves nothing behind when the OS
        // refuses it and keeps no registry; its owner (`IoSource`)
        // deregisters it through that duplicate, which nothing else can
        // close or replace, before closing it.
        // SAFETY: so it registers only itself, under the token it is given.
        let source = unsafe { IoSource::new_unchecked(watched, interest) }
            .map_err(explain_registration_error)?;
        Ok(AsyncFd {
            source,
            fd: fd.as_raw_fd(),
            inner,
        })
    }

    /// The wrapped object.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped object, mutably: for the I/O methods that take
    /// `&mut self`. It must keep its descriptor: see the type's docs for
    /// what follows if it closes or replaces it (an error, at worst).
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Deregisters the descriptor and hands back the wrapped object, still
    /// non-blocking. Works after the runtime shut down, and outside any.
    pub fn into_inner(self) -> T {
        let AsyncFd { source, inner, .. } = self;
        // Deregistering our own duplicate fails only if the driver is gone
        // (its poller with it); it is closed here either way.
        drop(source.into_inner());
        inner
    }

    /// Waits until the descriptor is readable (or its writer hung up, or
    /// it is in error). Then read with [`try_read_with`](AsyncFd::try_read_with),
    /// which clears the readiness if the read finds nothing.
    ///
    /// ```
    /// use std::io::{ErrorKind, Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// # eddy::run(async {
    /// let (reader, mut writer) = UnixStream::pair()?;
    /// reader.set_nonblocking(true)?;
    /// let reader = eddy::io::unix::AsyncFd::new(reader)?;
    /// writer.write_all(b"ping")?;
    /// let mut buf = [0; 16];
    /// let n = loop {
    ///     reader.readable().await?;
    ///     match reader.try_read_with(|r| (&*r).read(&mut buf)) {
    ///         Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///         read => break read?,
    ///     }
    /// };
    /// assert_eq!(&buf[..n], b"ping");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// Cancel safe: dropped before it completes, it leaves no wake behind.
    /// Any number of tasks may wait at once; each is woken. Completing
    /// spends one unit of the task's budget (with none left, the task
    /// yields first), so a loop of `readable` and `try_read_with` on a
    /// descriptor that never runs dry still lets other tasks run.
    pub async fn readable(&self) -> io::Result<()> {
        self.check_fd()?;
        self.source.ready(Interest::READABLE).await
    }

    /// Waits until the descriptor is writable (or its reader hung up, or it
    /// is in error). Then write with [`try_write_with`](AsyncFd::try_write_with).
    ///
    /// Cancel safe, and spends the budget, as [`readable`](AsyncFd::readable).
    pub async fn writable(&self) -> io::Result<()> {
        self.check_fd()?;
        self.source.ready(Interest::WRITABLE).await
    }

    /// Polls for read readiness: the poll form of
    /// [`readable`](AsyncFd::readable), for a hand-written future. `Ready`
    /// spends one unit of the task's budget, as a socket read does;
    /// `Pending` spends none.
    ///
    /// The `AsyncFd` keeps one waker for this direction, shared with
    /// [`poll_read_with`](AsyncFd::poll_read_with): only the task that
    /// polled last is woken. Tasks that wait together use `readable`.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check_fd()?;
        self.source.poll_ready(cx, Direction::Read)
    }

    /// Polls for write readiness: the poll form of
    /// [`writable`](AsyncFd::writable). Budget and waker as for
    /// [`poll_read_ready`](AsyncFd::poll_read_ready).
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check_fd()?;
        self.source.poll_ready(cx, Direction::Write)
    }

    /// Waits until the descriptor is readable and runs `f` on the wrapped
    /// object; if `f` returns `WouldBlock`, clears the read readiness and
    /// waits again; if it returns `Interrupted`, runs it again. Returns
    /// `f`'s first other result, success or error.
    ///
    /// Cancel safe if `f` is: dropped while waiting, it has not run `f`
    /// since its last `WouldBlock`, so it consumed nothing (a closure that
    /// reads some bytes and then returns `WouldBlock` loses them).
    pub async fn read_with<R>(&self, mut f: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.check_fd()?;
        self.source
            .async_io(Direction::Read, |_| f(&self.inner))
            .await
    }

    /// Waits until the descriptor is writable and runs `f`, as
    /// [`read_with`](AsyncFd::read_with) does for reading.
    pub async fn write_with<R>(&self, mut f: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.check_fd()?;
        self.source
            .async_io(Direction::Write, |_| f(&self.inner))
            .await
    }

    /// The poll form of [`read_with`](AsyncFd::read_with), for an
    /// `AsyncRead` or a hand-written future. Budget and waker as for
    /// [`poll_read_ready`](AsyncFd::poll_read_ready).
    pub fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        f: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_with(cx, Direction::Read, f)
    }

    /// The poll form of [`write_with`](AsyncFd::write_with).
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        f: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_with(cx, Direction::Write, f)
    }

    /// Runs `f` now if the descriptor is known to be readable, else returns
    /// `WouldBlock` without running it. A `WouldBlock` from `f` clears the
    /// read readiness, so the next wait waits for the driver; an
    /// `Interrupted` (`EINTR`: nothing was done) runs `f` again, as
    /// [`read_with`](AsyncFd::read_with) does.
    pub fn try_read_with<R>(&self, f: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.try_with(Direction::Read, f)
    }

    /// Runs `f` now if the descriptor is known to be writable, else returns
    /// `WouldBlock`, as [`try_read_with`](AsyncFd::try_read_with).
    pub fn try_write_with<R>(&self, f: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.try_with(Direction::Write, f)
    }

    /// The body of `poll_read_with` and `poll_write_with`: waits for
    /// `direction`, runs `f`, and waits again after each `WouldBlock`; one
    /// budgeted operation, so a `Pending` spends nothing (finding 77).
    fn poll_with<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut f: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.check_fd()?;
        self.source.poll_ready_io(cx, direction, || f(&self.inner))
    }

    /// The body of `try_read_with` and `try_write_with`.
    fn try_with<R>(
        &self,
        direction: Direction,
        mut f: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.check_fd()?;
        self.source.try_io(direction.interest(), || f(&self.inner))
    }

    /// Fails if `inner`'s descriptor is no longer the one wrapped (see the
    /// type's docs): readiness would come from the old file.
    fn check_fd(&self) -> io::Result<()> {
        let now = self.inner.as_fd().as_raw_fd();
        if now == self.fd {
            Ok(())
        } else {
            Err(descriptor_changed(self.fd, now))
        }
    }
}

/// Duplicates `fd` for the driver to watch, refusing what an `AsyncFd`
/// cannot drive: a regular file or directory, a blocking descriptor.
fn watch(fd: BorrowedFd<'_>) -> io::Result<WatchedFd> {
    // Close-on-exec (`F_DUPFD_CLOEXEC`). As a `File` for std's `fstat`.
    let duplicate = File::from(fd.try_clone_to_owned()?);
    let kind = duplicate.metadata()?.file_type();
    if kind.is_file() || kind.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "eddy::io::unix::AsyncFd: a regular file or directory cannot be polled \
             (epoll refuses it; it is always ready): read it on the blocking pool",
        ));
    }
    if !sys::is_nonblocking(duplicate.as_fd())? {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "eddy::io::unix::AsyncFd: the descriptor is blocking: set O_NONBLOCK on it \
             first, or its reads and writes would block every task of the runtime",
        ));
    }
    Ok(WatchedFd::new(OwnedFd::from(duplicate)))
}

/// Names the cause when the OS poller refuses the descriptor, keeping the
/// error's kind; the runtime's own errors (outside a runtime, shut down)
/// pass unchanged.
fn explain_registration_error(error: io::Error) -> io::Error {
    match error.raw_os_error() {
        // epoll's answer for a file without readiness to report (a device
        // such as `/dev/null`).
        Some(libc::EPERM) => io::Error::new(
            error.kind(),
            format!(
                "eddy::io::unix::AsyncFd: this descriptor cannot be polled: its file \
                 reports no readiness (epoll: {error}); use it on the blocking pool"
            ),
        ),
        Some(_) => io::Error::new(
            error.kind(),
            format!("eddy::io::unix::AsyncFd: the OS poller refused the descriptor: {error}"),
        ),
        None => error,
    }
}

/// The error of an operation on an `AsyncFd` whose `inner` changed its
/// descriptor.
#[cold]
fn descriptor_changed(wrapped: RawFd, now: RawFd) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "eddy::io::unix::AsyncFd: the wrapped object's descriptor changed from {wrapped} \
             to {now} (through get_mut); unwrap it with into_inner and wrap it again"
        ),
    )
}

impl<T: AsFd> AsFd for AsyncFd<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl<T: AsFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_fd().as_raw_fd()
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", &self.inner)
            .field("fd", &self.fd)
            .finish_non_exhaustive()
    }
}
