//! A stream's halves: owned ones in two tasks, borrowed ones in one, and
//! `reunite`.

use std::future::Future;
use std::io;
use std::pin::pin;
use std::task::Context;

use eddy::Runtime;
use eddy::net::UnixStream;
use eddy::net::unix::ReuniteError;
use eddy_tests::child_process::{assert_child_succeeded, child_role, run_child};
use eddy_tests::{panic_message, panicking_waker, run_bounded, with_deadline};

use crate::{LIMIT, echo, echo_through, fill_send_buffer, payload};

#[test]
fn owned_halves_read_and_write_from_two_tasks_at_once() {
    run_bounded(LIMIT, || async {
        let (client, server) = UnixStream::pair().expect("pair");
        let server = eddy::spawn(echo(server));
        // Several times the socket buffers: unless the reader task runs while
        // the writer task is blocked, the echo stalls and this deadlocks.
        let sent = payload(4, 4 * 1024 * 1024);
        let got = echo_through(client, sent.clone()).await;
        assert_eq!(got.len(), sent.len());
        assert!(got == sent, "the echo differs from what was sent");
        assert_eq!(server.await.expect("task").expect("echo"), sent.len());
    });
}

#[test]
fn borrowed_halves_work_in_one_task() {
    run_bounded(LIMIT, || async {
        let (mut a, mut b) = UnixStream::pair().expect("pair");
        {
            let (mut reader, mut writer) = a.split();
            writer.write_all(b"ping").await.expect("write");
            let mut buf = [0u8; 4];
            b.read_exact(&mut buf).await.expect("peer read");
            b.write_all(b"pong").await.expect("peer write");
            reader.read_exact(&mut buf).await.expect("read");
            assert_eq!(&buf, b"pong");
        }
        // The borrowed halves did not shut anything down.
        a.write_all(b"after").await.expect("write after split");
    });
}

#[test]
fn reunite_gives_the_stream_back_without_half_closing_it() {
    run_bounded(LIMIT, || async {
        let (first, mut first_peer) = UnixStream::pair().expect("pair");
        let (second, _second_peer) = UnixStream::pair().expect("pair");
        let (first_read, first_write) = first.into_split();
        let (second_read, second_write) = second.into_split();

        let refused: ReuniteError = first_read
            .reunite(second_write)
            .expect_err("halves of different streams");
        assert!(refused.to_string().contains("not from the same stream"));
        let (first_read, second_write) = (refused.0, refused.1);
        let mut first = first_write.reunite(first_read).expect("same stream");
        drop(second_write.reunite(second_read).expect("same stream"));

        first
            .write_all(b"whole")
            .await
            .expect("write after reunite");
        let mut buf = [0u8; 5];
        first_peer.read_exact(&mut buf).await.expect("peer read");
        assert_eq!(&buf, b"whole");
        // No end-of-stream was sent: the peer's next read waits for data.
        let error = first_peer.try_read(&mut buf).expect_err("no EOF queued");
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: cannot start a child process")]
fn an_owned_write_half_dropped_while_its_thread_unwinds_survives_a_panicking_waker() {
    if child_role().as_deref() == Some("unwinding_drop") {
        return drop_a_write_half_while_unwinding_with_a_panicking_waker();
    }
    // In a child: before the fix the process aborted ("panic in a
    // destructor during cleanup"), which would take the whole test binary
    // down with it.
    assert_child_succeeded(&run_child("unwinding_drop"));
}

/// The child's side: a write parks a foreign executor's waker, one that
/// panics, on a full stream; then the task panics with the write half
/// alive. The unwinding drops the half, whose `Drop` shuts the write side
/// down and so wakes the parked write (no event would). That waker's
/// panic, raised out of a drop that runs during unwinding, aborts the
/// process; the thread must instead end with the task's own panic.
fn drop_a_write_half_while_unwinding_with_a_panicking_waker() {
    with_deadline(LIMIT, || {
        let runtime = Runtime::new().expect("runtime");
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runtime.block_on(async {
                let (stream, _peer) = UnixStream::pair().expect("pair");
                fill_send_buffer(&stream).await;
                let (_reader, mut writer) = stream.into_split();
                let doomed = panicking_waker("the parked write's waker panics");
                let mut cx = Context::from_waker(&doomed);
                let parked = pin!(writer.write(b"x")).poll(&mut cx).is_pending();
                assert!(parked, "the write found room in a full send buffer");
                panic!("the task panics with its write half alive");
            })
        }));
        let payload = unwound.expect_err("the task's panic comes out of block_on");
        assert_eq!(
            panic_message(&*payload),
            "the task panics with its write half alive"
        );
        drop(runtime);
    });
}
