//! Writes that can never succeed: after `shutdown(Write)` or `poll_close`,
//! and to a vanished peer with `SIGPIPE` at its default action.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::pin::Pin;
use std::rc::Rc;

use eddy::io::AsyncWrite;
use eddy::net::UnixStream;
use eddy_tests::child_process::{
    assert_child_survived_sigpipe, child_role, restore_default_sigpipe, run_child,
};
use eddy_tests::{run_bounded, woken_within};

use crate::{LIMIT, fill_send_buffer};

/// Asserts that `result` is the `EPIPE` of a write after `shutdown(Write)`,
/// and that it came instead of a hang.
fn assert_broken_pipe<T: std::fmt::Debug>(
    result: Result<io::Result<T>, eddy::time::Elapsed>,
    what: &str,
) {
    let error = result
        .unwrap_or_else(|_| panic!("{what} waited for the peer to read"))
        .expect_err(what);
    assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "{what}: {error}");
}

#[test]
fn writing_after_shutting_down_the_write_side_fails_at_once_even_with_a_full_buffer() {
    run_bounded(LIMIT, || async {
        let wait = LIMIT / 4;
        // The peers stay open and never read: the buffers stay full, and
        // the kernel reports no event for a Unix socket's own shutdown.
        let (mut stream, _peer) = UnixStream::pair().expect("pair");
        fill_send_buffer(&stream).await;
        stream.shutdown(Shutdown::Write).expect("shutdown");
        assert_broken_pipe(
            eddy::time::timeout(wait, stream.write(b"late")).await,
            "write",
        );
        let tried = stream.try_write(b"late").expect_err("try_write");
        assert_eq!(tried.kind(), io::ErrorKind::BrokenPipe, "try_write");
        eddy::time::timeout(wait, stream.writable())
            .await
            .expect("writable waited for the peer to read")
            .expect("writable");

        // The same through `futures-io`: `poll_close`, then `poll_write`
        // and `poll_write_vectored`, on an owned write half.
        let (stream, _peer) = UnixStream::pair().expect("pair");
        fill_send_buffer(&stream).await;
        let (_read, mut write) = stream.into_split();
        poll_fn(|cx| Pin::new(&mut write).poll_close(cx))
            .await
            .expect("close");
        assert_broken_pipe(
            eddy::time::timeout(wait, write.write_all(b"late")).await,
            "write_all",
        );
        let bufs = [IoSlice::new(b"la"), IoSlice::new(b"te")];
        assert_broken_pipe(
            eddy::time::timeout(
                wait,
                poll_fn(|cx| Pin::new(&mut write).poll_write_vectored(cx, &bufs)),
            )
            .await,
            "poll_write_vectored",
        );
    });
}

#[test]
fn a_write_waiting_on_a_full_buffer_is_woken_by_the_streams_own_shutdown() {
    run_bounded(LIMIT, || async {
        let wait = LIMIT / 4;
        // Two streams with full send buffers and peers that never read: one
        // with a write parked in its writer slot, one with `writable()`
        // parked in its waiter list. The kernel sends no event for a Unix
        // socket's own shutdown, so only eddy can wake them.
        let (writing, _peer) = UnixStream::pair().expect("pair");
        fill_send_buffer(&writing).await;
        let (waiting, _other_peer) = UnixStream::pair().expect("pair");
        fill_send_buffer(&waiting).await;
        let writing = Rc::new(RefCell::new(writing));
        let waiting = Rc::new(waiting);

        let writer = eddy::spawn({
            let writing = writing.clone();
            // Borrowed only for each poll, so the shutdown below can
            // borrow the stream while the write waits.
            async move {
                poll_fn(|cx| Pin::new(&mut *writing.borrow_mut()).poll_write(cx, b"late")).await
            }
        });
        let waiter = eddy::spawn({
            let waiting = waiting.clone();
            async move { waiting.writable().await }
        });
        // Let both park.
        eddy::task::yield_now().await;
        assert!(
            !writer.is_finished() && !waiter.is_finished(),
            "a full buffer is not writable"
        );

        writing
            .borrow()
            .shutdown(Shutdown::Write)
            .expect("shutdown");
        waiting.shutdown(Shutdown::Write).expect("shutdown");
        let written = woken_within(wait, writer)
            .await
            .expect("the waiting write was never woken")
            .expect("writer task");
        let error = written.expect_err("a write after shutdown");
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "{error}");
        woken_within(wait, waiter)
            .await
            .expect("the waiting writable() was never woken")
            .expect("waiter task")
            .expect("writable");
    });
}

#[test]
fn a_loop_retrying_writes_after_shutdown_still_yields_to_other_tasks() {
    run_bounded(LIMIT, || async {
        let (mut stream, _peer) = UnixStream::pair().expect("pair");
        stream.shutdown(Shutdown::Write).expect("shutdown");
        let other_ran = Rc::new(Cell::new(false));
        let flag = other_ran.clone();
        eddy::spawn(async move { flag.set(true) });
        // Many times the cooperative budget: every write fails at once,
        // so only the budget can make this task yield.
        for _ in 0..100_000 {
            if other_ran.get() {
                return;
            }
            let error = stream.write(b"x").await.expect_err("shut down");
            assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
        }
        panic!("100,000 failed writes in a row never yielded to another task");
    });
}

#[test]
fn writing_to_a_vanished_peer_is_an_error_even_with_sigpipe_at_its_default() {
    if child_role().as_deref() == Some("vanished_peer") {
        return write_to_a_vanished_peer();
    }
    let output = run_child("vanished_peer");
    assert_child_survived_sigpipe(&output, "both writes failed with EPIPE");
}

/// The child's side: with `SIGPIPE` at its default action (Rust's start-up
/// code ignores it, which would hide the problem), a plain and a vectored
/// write to a stream whose peer is closed must come back as `EPIPE`.
fn write_to_a_vanished_peer() {
    restore_default_sigpipe();
    run_bounded(LIMIT, || async {
        let (mut stream, peer) = UnixStream::pair().expect("pair");
        drop(peer);
        let error = stream
            .write(b"anyone?")
            .await
            .expect_err("the peer is gone");
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "write: {error}");
        let bufs = [IoSlice::new(b"any"), IoSlice::new(b"one?")];
        let error = poll_fn(|cx| Pin::new(&mut stream).poll_write_vectored(cx, &bufs))
            .await
            .expect_err("the peer is gone");
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "writev: {error}");
    });
    println!("both writes failed with EPIPE");
}
