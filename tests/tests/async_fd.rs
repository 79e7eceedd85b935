//! `eddy::io::unix::AsyncFd` over real descriptors: pipes, and on Linux an
//! `eventfd` and a `timerfd`.
//!
//! What is proved:
//! * a pipe carries a payload larger than its buffer, byte for byte, from
//!   a writer task to a reader task, both driven by `AsyncFd`, and the
//!   reader then sees end-of-file; a write into a full pipe waits for room
//!   and completes once the reader drains it; a write whose reader is gone
//!   fails with `BrokenPipe` instead of waiting;
//! * many tasks, each on its own pipe, all get their own message;
//! * `readable` and `read_with`, cancelled at random points mid-wait, lose
//!   no byte;
//! * an `eventfd` and a `timerfd` wake their reader (Linux);
//! * a regular file, a directory, a blocking descriptor and (Linux) a
//!   device epoll cannot watch are refused with clear errors, and so is an
//!   `AsyncFd` made outside a runtime; a pipe end watched for reading only
//!   refuses to wait for writable instead of waiting forever;
//! * the poll forms (`poll_read_with`, `poll_write_with`) carry a payload
//!   byte for byte; I/O through `get_mut` that keeps the descriptor leaves
//!   the `AsyncFd` working; one descriptor wrapped twice wakes both; a
//!   poll form that finds the readiness stale spends no budget;
//! * `into_inner` hands back a working descriptor, which another runtime
//!   wraps and drives;
//! * when the runtime is dropped, a waiter on another thread ends with the
//!   shutdown error, later operations fail with it, and dropping the
//!   `AsyncFd` then, on any thread, is fine;
//! * a descriptor replaced through `get_mut` makes every operation fail
//!   with an error, and the old file, still open elsewhere, does not reach
//!   the released registration (the driver keeps serving other fds);
//! * a loop of `readable` (or `writable`) and a `try_*_with` on a
//!   descriptor that never runs dry lets other tasks run (Linux);
//! * descriptors return to their baseline after all of it.
#![cfg(unix)]

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd};
use std::pin::pin;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use eddy::io::unix::AsyncFd;
use eddy_tests::{
    XorShift, assert_no_runtime_error, block_on_parked, cancel_at_random, open_descriptors,
    poll_at_most, run_bounded, with_deadline,
};

/// Bounds every test: only a hang comes near it.
const LIMIT: Duration = Duration::from_secs(30);

/// A pipe, both ends non-blocking and close-on-exec: `(reader, writer)`.
fn pipe() -> (File, File) {
    let mut fds = [0; 2];
    // `pipe2` sets both flags at once (and is what Miri emulates); Apple
    // systems have no `pipe2`.
    #[cfg(not(target_vendor = "apple"))]
    // SAFETY: `fds` is valid for writes of two descriptors.
    let result = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
    #[cfg(target_vendor = "apple")]
    // SAFETY: as above.
    let result = unsafe { libc::pipe(fds.as_mut_ptr()) };
    assert_eq!(result, 0, "pipe: {}", io::Error::last_os_error());
    // SAFETY: `pipe` just opened both, and nothing else owns them.
    let (reader, writer) = unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
    #[cfg(target_vendor = "apple")]
    for file in [&reader, &writer] {
        set_flag(file, libc::F_GETFD, libc::F_SETFD, libc::FD_CLOEXEC);
        set_flag(file, libc::F_GETFL, libc::F_SETFL, libc::O_NONBLOCK);
    }
    (reader, writer)
}

/// Sets `flag` in the flags `get` reads and `set` writes.
#[cfg(any(target_vendor = "apple", target_os = "linux", target_os = "android"))]
fn set_flag(file: &File, get: libc::c_int, set: libc::c_int, flag: libc::c_int) {
    let fd = file.as_raw_fd();
    // SAFETY: `fd` is open (borrowed from `file`); these calls only read
    // and write its flags.
    let flags = unsafe { libc::fcntl(fd, get) };
    assert!(flags >= 0, "fcntl: {}", io::Error::last_os_error());
    // SAFETY: as above.
    let result = unsafe { libc::fcntl(fd, set, flags | flag) };
    assert!(result >= 0, "fcntl: {}", io::Error::last_os_error());
}

/// A payload whose every byte depends on its position.
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Fills `writer`'s pipe until the kernel says `WouldBlock`; returns how
/// many bytes went in.
fn fill(writer: &AsyncFd<File>) -> usize {
    let chunk = [7u8; 4096];
    let mut total = 0;
    loop {
        match writer.get_ref().write(&chunk) {
            Ok(n) => total += n,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return total,
            Err(error) => panic!("fill: {error}"),
        }
    }
}

/// Writes all of `data` through `writer`.
async fn write_all(writer: &AsyncFd<File>, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let n = writer.write_with(|mut file| file.write(data)).await?;
        data = &data[n..];
    }
    Ok(())
}

/// Reads from `reader` to end-of-file.
async fn read_to_end(reader: &AsyncFd<File>) -> io::Result<Vec<u8>> {
    let mut received = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = reader.read_with(|mut file| file.read(&mut buf)).await?;
        if n == 0 {
            return Ok(received);
        }
        received.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn a_pipe_carries_a_payload_larger_than_its_buffer_byte_for_byte_then_eof() {
    run_bounded(LIMIT, || async {
        let (reader, writer) = pipe();
        let (reader, writer) = (AsyncFd::for_reading(reader)?, AsyncFd::for_writing(writer)?);
        // Far more than a pipe holds (64 KiB on Linux): the writer waits
        // for room many times over.
        let sent = payload(if cfg!(miri) { 256 << 10 } else { 4 << 20 });
        let expected = sent.clone();
        let writing = eddy::spawn(async move {
            write_all(&writer, &sent).await?;
            // Dropping the write end is the reader's end-of-file.
            drop(writer);
            io::Result::Ok(())
        });
        let received = read_to_end(&reader).await?;
        writing.await.expect("writer task")?;
        assert_eq!(received.len(), expected.len());
        assert!(received == expected, "the bytes differ");
        // End-of-file stays: the next read sees it at once.
        let n = reader.read_with(|mut file| file.read(&mut [0; 1])).await?;
        assert_eq!(n, 0);
        io::Result::Ok(())
    })
    .expect("pipe round trip");
}

#[test]
fn a_write_into_a_full_pipe_waits_for_room_and_then_completes() {
    run_bounded(LIMIT, || async {
        let (reader, writer) = pipe();
        let (reader, writer) = (AsyncFd::for_reading(reader)?, AsyncFd::for_writing(writer)?);
        let filled = fill(&writer);
        assert!(filled > 0);
        // The pipe is full: the write cannot complete however often it is
        // polled, and `try_write_with` does not even run its closure.
        let mut write = pin!(writer.write_with(|mut file| file.write(b"last")));
        assert!(poll_at_most(20, write.as_mut()).await.is_none());
        let refused = writer.try_write_with(|_| -> io::Result<()> {
            panic!("ran while the pipe was known to be full")
        });
        assert_eq!(refused.unwrap_err().kind(), io::ErrorKind::WouldBlock);
        // Drain it all: the write now finds room.
        let mut buf = vec![0u8; 64 << 10];
        let mut drained = 0;
        while drained < filled {
            drained += reader.read_with(|mut file| file.read(&mut buf)).await?;
        }
        assert_eq!(drained, filled);
        assert_eq!(write.await?, 4);
        let n = reader.read_with(|mut file| file.read(&mut buf)).await?;
        assert_eq!(&buf[..n], b"last");
        io::Result::Ok(())
    })
    .expect("full pipe");
}

#[test]
fn a_write_whose_reader_is_gone_fails_with_broken_pipe_instead_of_waiting() {
    run_bounded(LIMIT, || async {
        let (reader, writer) = pipe();
        let writer = AsyncFd::for_writing(writer)?;
        fill(&writer);
        // The pipe is full, so only the reader's close can end this wait.
        let mut write = pin!(writer.write_with(|mut file| file.write(b"x")));
        assert!(poll_at_most(5, write.as_mut()).await.is_none());
        drop(reader);
        let error = write.await.expect_err("a write with no reader");
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "{error}");
        io::Result::Ok(())
    })
    .expect("broken pipe");
}

#[test]
fn many_tasks_each_on_its_own_pipe_all_get_their_message() {
    run_bounded(LIMIT, || async {
        let mut readers = Vec::new();
        let mut writers = Vec::new();
        for i in 0..if cfg!(miri) { 20u32 } else { 200 } {
            let (reader, writer) = pipe();
            let reader = AsyncFd::for_reading(reader)?;
            let writer = AsyncFd::for_writing(writer)?;
            readers.push(eddy::spawn(async move {
                let received = read_to_end(&reader).await?;
                io::Result::Ok((i, received))
            }));
            writers.push(eddy::spawn(async move {
                // Let every reader wait first, so each is woken by its own
                // pipe's event.
                eddy::time::sleep(Duration::from_millis(1)).await;
                write_all(&writer, format!("message {i}").as_bytes()).await
            }));
        }
        for writer in writers {
            writer.await.expect("writer task")?;
        }
        for reader in readers {
            let (i, received) = reader.await.expect("reader task")?;
            assert_eq!(received, format!("message {i}").into_bytes());
        }
        io::Result::Ok(())
    })
    .expect("many pipes");
}

#[test]
fn readable_and_read_with_cancelled_mid_wait_lose_no_byte() {
    run_bounded(LIMIT, || async {
        let (reader, writer) = pipe();
        let (reader, writer) = (AsyncFd::for_reading(reader)?, AsyncFd::for_writing(writer)?);
        const TOTAL: usize = 20_000;
        let writing = eddy::spawn(async move {
            let data = payload(TOTAL);
            let mut rng = XorShift(7);
            for chunk in data.chunks(97) {
                write_all(&writer, chunk).await?;
                if rng.below(3) == 0 {
                    eddy::time::sleep(Duration::from_micros(rng.below(500))).await;
                }
            }
            io::Result::Ok(())
        });
        let mut rng = XorShift(0x5eed);
        let mut received = Vec::new();
        let mut buf = [0u8; 64];
        while received.len() < TOTAL {
            if rng.below(2) == 0 {
                let read = reader.read_with(|mut file| file.read(&mut buf));
                if let Some(n) = cancel_at_random(&mut rng, read).await {
                    received.extend_from_slice(&buf[..n?]);
                }
            } else if let Some(ready) = cancel_at_random(&mut rng, reader.readable()).await {
                ready?;
                match reader.try_read_with(|mut file| file.read(&mut buf)) {
                    Ok(n) => received.extend_from_slice(&buf[..n]),
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                    Err(error) => return Err(error),
                }
            }
        }
        writing.await.expect("writer task")?;
        assert!(received == payload(TOTAL), "bytes lost or reordered");
        io::Result::Ok(())
    })
    .expect("cancel safety");
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
#[cfg_attr(miri, ignore = "Miri: its fstat calls an eventfd a regular file")]
fn an_eventfd_wakes_its_reader_with_the_count_written_from_another_thread() {
    run_bounded(LIMIT, || async {
        // SAFETY: eventfd takes no pointers; a -1 is checked below.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        assert!(fd >= 0, "eventfd: {}", io::Error::last_os_error());
        // SAFETY: `eventfd` just opened it, and nothing else owns it.
        let event = Arc::new(AsyncFd::new(unsafe { File::from_raw_fd(fd) })?);
        let remote = event.get_ref().try_clone()?;
        let poster = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            for _ in 0..3 {
                (&remote)
                    .write_all(&5u64.to_ne_bytes())
                    .expect("eventfd write");
            }
        });
        let mut total = 0;
        while total < 15 {
            let mut count = [0u8; 8];
            event
                .read_with(|mut file| file.read_exact(&mut count))
                .await?;
            total += u64::from_ne_bytes(count);
        }
        poster.join().expect("poster");
        assert_eq!(total, 15);
        io::Result::Ok(())
    })
    .expect("eventfd");
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
#[cfg_attr(miri, ignore = "Miri: no timerfd")]
fn a_timerfd_ticks_through_read_with() {
    run_bounded(LIMIT, || async {
        // SAFETY: timerfd_create takes no pointers; a -1 is checked below.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        assert!(fd >= 0, "timerfd_create: {}", io::Error::last_os_error());
        // SAFETY: `timerfd_create` just opened it, and nothing else owns it.
        let timer = AsyncFd::new(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })?;
        let every_2ms = libc::timespec {
            tv_sec: 0,
            tv_nsec: 2_000_000,
        };
        let spec = libc::itimerspec {
            it_interval: every_2ms,
            it_value: every_2ms,
        };
        // SAFETY: `spec` is a valid `itimerspec`, the old value is not
        // asked for, and the descriptor is open.
        let set =
            unsafe { libc::timerfd_settime(timer.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        assert_eq!(set, 0, "timerfd_settime: {}", io::Error::last_os_error());
        let mut ticks = 0;
        while ticks < 5 {
            let expirations = timer
                .read_with(|fd| {
                    let mut file = File::from(fd.try_clone()?);
                    let mut count = [0u8; 8];
                    file.read_exact(&mut count)?;
                    Ok(u64::from_ne_bytes(count))
                })
                .await?;
            assert!(expirations >= 1);
            ticks += expirations;
        }
        io::Result::Ok(())
    })
    .expect("timerfd");
}

#[test]
fn a_regular_file_or_directory_is_refused_with_a_clear_error() {
    run_bounded(LIMIT, || async {
        let file = File::open(std::env::current_exe().expect("current_exe")).expect("open");
        let error = AsyncFd::new(file).expect_err("a regular file");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert!(error.to_string().contains("regular file"), "{error}");
        let dir = File::open(std::env::temp_dir()).expect("open dir");
        let error = AsyncFd::new(dir).expect_err("a directory");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert!(error.to_string().contains("directory"), "{error}");
    });
}

#[test]
fn a_blocking_descriptor_is_refused_and_kept_blocking() {
    run_bounded(LIMIT, || async {
        let (reader, _writer) = pipe();
        // SAFETY: the descriptor is open; these calls only read and write
        // its status flags.
        unsafe {
            let flags = libc::fcntl(reader.as_raw_fd(), libc::F_GETFL);
            assert!(flags >= 0);
            let cleared = libc::fcntl(reader.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK);
            assert_eq!(cleared, 0);
        }
        // Through a reference, so the descriptor outlives the refusal.
        let error = AsyncFd::new(&reader).expect_err("a blocking pipe");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert!(error.to_string().contains("O_NONBLOCK"), "{error}");
        // SAFETY: as above.
        let now = unsafe { libc::fcntl(reader.as_raw_fd(), libc::F_GETFL) };
        assert_eq!(now & libc::O_NONBLOCK, 0, "AsyncFd changed the file's mode");
    });
}

#[test]
fn an_async_fd_made_outside_a_runtime_is_refused() {
    let (reader, _writer) = pipe();
    assert_no_runtime_error(AsyncFd::new(reader), "AsyncFd::new");
}

#[test]
fn into_inner_hands_back_a_descriptor_another_runtime_drives() {
    with_deadline(LIMIT, || {
        let (reader, writer) = pipe();
        let (reader, writer) = eddy::run(async move {
            let (reader, writer) = (AsyncFd::for_reading(reader)?, AsyncFd::for_writing(writer)?);
            write_all(&writer, b"first").await?;
            let mut buf = [0u8; 5];
            let n = reader.read_with(|mut file| file.read(&mut buf)).await?;
            assert_eq!(&buf[..n], b"first");
            io::Result::Ok((reader.into_inner(), writer.into_inner()))
        })
        .expect("first runtime");
        eddy::run(async move {
            let (reader, writer) = (AsyncFd::for_reading(reader)?, AsyncFd::for_writing(writer)?);
            let reading = eddy::spawn(async move { read_to_end(&reader).await });
            write_all(&writer, b"second").await?;
            drop(writer);
            assert_eq!(reading.await.expect("reader task")?, b"second");
            io::Result::Ok(())
        })
        .expect("second runtime");
    });
}

#[test]
fn a_waiter_on_another_thread_ends_with_the_shutdown_error_when_the_runtime_is_dropped() {
    with_deadline(LIMIT, || {
        let runtime = eddy::Runtime::new().expect("runtime");
        let (reader, writer) = pipe();
        let (reader, writer) = runtime.block_on(async move {
            (
                AsyncFd::for_reading(reader).expect("reader"),
                AsyncFd::for_writing(writer).expect("writer"),
            )
        });
        let reader = Arc::new(reader);
        let (waiting_tx, waiting_rx) = mpsc::channel();
        let waiter = std::thread::spawn({
            let reader = reader.clone();
            move || {
                block_on_parked(async {
                    let mut readable = pin!(reader.readable());
                    let mut told = false;
                    std::future::poll_fn(|cx| {
                        let polled = readable.as_mut().poll(cx);
                        if polled.is_pending() && !told {
                            told = true;
                            waiting_tx.send(()).expect("send");
                        }
                        polled
                    })
                    .await
                })
            }
        });
        waiting_rx.recv().expect("the waiter parked");
        drop(runtime);
        let error = waiter.join().expect("waiter").expect_err("readable");
        assert!(eddy::is_shutdown_error(&error), "readable: {error}");
        // Later operations fail at once with it too, even with data there.
        writer.get_ref().write_all(b"x").expect("std write");
        let error =
            block_on_parked(reader.read_with(|mut f| f.read(&mut [0; 1]))).expect_err("read_with");
        assert!(eddy::is_shutdown_error(&error), "read_with: {error}");
        let error = reader
            .try_read_with(|mut f| f.read(&mut [0; 1]))
            .expect_err("try_read_with");
        assert!(eddy::is_shutdown_error(&error), "try_read_with: {error}");
        // Dropped on another thread, after the runtime: fine.
        std::thread::spawn(move || drop(writer))
            .join()
            .expect("drop");
        let reader = Arc::try_unwrap(reader).expect("the only owner");
        // And the descriptor itself is still good.
        let mut byte = [0u8; 1];
        assert_eq!(reader.into_inner().read(&mut byte).expect("read"), 1);
        assert_eq!(&byte, b"x");
    });
}

#[test]
fn a_task_waiting_when_its_runtime_is_dropped_is_dropped_without_hanging() {
    with_deadline(LIMIT, || {
        let runtime = eddy::Runtime::new().expect("runtime");
        let (reader, writer) = pipe();
        runtime.block_on(async move {
            let reader = AsyncFd::for_reading(reader).expect("reader");
            drop(eddy::spawn(async move {
                let mut buf = [0u8; 1];
                reader.read_with(|mut f| f.read(&mut buf)).await
            }));
            eddy::task::yield_now().await;
        });
        drop(runtime);
        drop(writer);
    });
}

#[test]
fn a_descriptor_replaced_through_get_mut_fails_with_an_error_never_worse() {
    run_bounded(LIMIT, || async {
        let (reader, writer) = pipe();
        let (other_reader, _other_writer) = pipe();
        let writer = AsyncFd::for_writing(writer)?;
        // A duplicate keeps the first pipe's read end open after the
        // `AsyncFd` lets go of it.
        let duplicate = reader.try_clone()?;
        let mut wrapped = AsyncFd::for_reading(reader)?;
        let first = std::mem::replace(wrapped.get_mut(), other_reader);
        drop(first);
        let error = wrapped
            .read_with(|mut f| f.read(&mut [0; 1]))
            .await
            .expect_err("read_with after the swap");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error}");
        assert!(error.to_string().contains("changed"), "{error}");
        let error = wrapped
            .readable()
            .await
            .expect_err("readable after the swap");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error}");
        drop(wrapped);
        // The first pipe is still open through `duplicate`, and its events
        // keep coming: they must not reach the released registration.
        // Other registrations are served on, turn after turn.
        let duplicate = AsyncFd::for_reading(duplicate)?;
        for round in 0..50u8 {
            write_all(&writer, &[round]).await?;
            eddy::time::sleep(Duration::from_millis(1)).await;
            let mut byte = [0u8; 1];
            let n = duplicate.read_with(|mut f| f.read(&mut byte)).await?;
            assert_eq!((n, byte[0]), (1, round));
        }
        io::Result::Ok(())
    })
    .expect("replaced descriptor");
}

#[test]
#[cfg_attr(miri, ignore = "Miri: cannot start a child process")]
fn descriptors_return_to_their_baseline() {
    eddy_tests::child_process::run_alone(|| {
        with_deadline(LIMIT, || {
            let runtime = eddy::Runtime::new().expect("runtime");
            let baseline = open_descriptors();
            runtime.block_on(async {
                for i in 0..100 {
                    let (reader, writer) = pipe();
                    let (reader, writer) = (
                        AsyncFd::for_reading(reader).expect("reader"),
                        AsyncFd::for_writing(writer).expect("writer"),
                    );
                    write_all(&writer, b"hi").await.expect("write");
                    drop(writer);
                    assert_eq!(read_to_end(&reader).await.expect("read"), b"hi");
                    // Half are dropped, half unwrapped first.
                    if i % 2 == 0 {
                        drop(reader.into_inner());
                    }
                }
                // Refusals leak nothing either.
                let file = File::open(std::env::current_exe().unwrap()).unwrap();
                assert!(AsyncFd::new(file).is_err());
            });
            assert_eq!(open_descriptors(), baseline, "descriptors leaked");
            drop(runtime);
        });
    });
}

/// Out of descriptors, `new` fails with the OS error itself (`EMFILE`, so
/// a server's check of `raw_os_error` still recognises it), as its docs
/// say, and drops nothing it was not given.
#[test]
#[cfg_attr(miri, ignore = "Miri: cannot start a child process")]
fn out_of_descriptors_new_fails_with_the_os_error() {
    eddy_tests::child_process::run_alone(|| {
        with_deadline(LIMIT, || {
            eddy::run(async {
                let (reader, _writer) = pipe();
                let taken = eddy_tests::fill_descriptor_table(256);
                let error = AsyncFd::new(&reader).expect_err("wrapped with a full table");
                drop(taken);
                assert_eq!(error.raw_os_error(), Some(libc::EMFILE), "{error}");
                // `&File` was wrapped: the pipe is still the caller's, and works.
                let fd = AsyncFd::for_reading(reader).expect("wrapped once descriptors are free");
                drop(fd);
            });
        });
    });
}

/// The wrapped object is reachable, and `AsFd` names its descriptor.
#[test]
fn an_async_fd_lends_the_wrapped_descriptor() {
    run_bounded(LIMIT, || async {
        let (reader, _writer) = pipe();
        let raw = reader.as_raw_fd();
        let reader = AsyncFd::for_reading(reader)?;
        assert_eq!(reader.as_fd().as_raw_fd(), raw);
        assert_eq!(reader.as_raw_fd(), raw);
        assert_eq!(reader.get_ref().as_raw_fd(), raw);
        // An empty pipe: nothing to read, and no wait either.
        let error = reader
            .try_read_with(|mut f| f.read(&mut [0; 1]))
            .expect_err("an empty pipe");
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
        io::Result::Ok(())
    })
    .expect("lends");
}

#[test]
fn a_pipe_end_watched_for_reading_refuses_to_wait_for_writable() {
    run_bounded(LIMIT, || async {
        let (reader, _writer) = pipe();
        let reader = AsyncFd::for_reading(reader)?;
        let refused = |result: io::Result<()>, what: &str| {
            let error = result.expect_err(what);
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{what}: {error}");
        };
        refused(reader.writable().await, "writable");
        refused(reader.write_with(|_| Ok(())).await, "write_with");
        refused(
            std::future::poll_fn(|cx| reader.poll_write_ready(cx)).await,
            "poll_write_ready",
        );
        refused(
            std::future::poll_fn(|cx| reader.poll_write_with(cx, |_| Ok(()))).await,
            "poll_write_with",
        );
        io::Result::Ok(())
    })
    .expect("refusals");
}

#[test]
fn poll_read_with_and_poll_write_with_carry_a_payload_byte_for_byte() {
    run_bounded(LIMIT, || async {
        let (reader, writer) = pipe();
        let (reader, writer) = (AsyncFd::for_reading(reader)?, AsyncFd::for_writing(writer)?);
        let sent = payload(if cfg!(miri) { 256 << 10 } else { 1 << 20 });
        let expected = sent.clone();
        let writing = eddy::spawn(async move {
            let mut rest = &sent[..];
            while !rest.is_empty() {
                let n = std::future::poll_fn(|cx| {
                    writer.poll_write_with(cx, |mut file| file.write(rest))
                })
                .await?;
                rest = &rest[n..];
            }
            io::Result::Ok(())
        });
        let mut received = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = std::future::poll_fn(|cx| {
                reader.poll_read_with(cx, |mut file| file.read(&mut buf))
            })
            .await?;
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buf[..n]);
        }
        writing.await.expect("writer task")?;
        assert!(received == expected, "the bytes differ");
        io::Result::Ok(())
    })
    .expect("poll forms");
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
#[cfg_attr(miri, ignore = "Miri: no fcntl on /dev/null")]
fn a_descriptor_epoll_cannot_watch_is_refused_with_a_clear_error() {
    run_bounded(LIMIT, || async {
        // A character device without a poll operation: epoll says EPERM.
        let null = File::open("/dev/null").expect("open /dev/null");
        set_flag(&null, libc::F_GETFL, libc::F_SETFL, libc::O_NONBLOCK);
        let error = AsyncFd::new(null).expect_err("/dev/null");
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied, "{error}");
        let message = error.to_string();
        assert!(message.contains("cannot be polled"), "{message}");
    });
}

#[test]
fn one_descriptor_wrapped_twice_wakes_both() {
    run_bounded(LIMIT, || async {
        let (reader, writer) = pipe();
        let writer = AsyncFd::for_writing(writer)?;
        // By reference, twice: each `AsyncFd` watches a duplicate of its
        // own, so the second registration is no conflict with the first.
        let first = AsyncFd::for_reading(&reader)?;
        let second = AsyncFd::for_reading(&reader)?;
        let both = futures_util::future::join(first.readable(), second.readable());
        let writing = async {
            eddy::time::sleep(Duration::from_millis(5)).await;
            write_all(&writer, b"!").await
        };
        let ((a, b), written) = futures_util::future::join(both, writing).await;
        a?;
        b?;
        written?;
        io::Result::Ok(())
    })
    .expect("wrapped twice");
}

#[test]
fn io_through_get_mut_that_keeps_the_descriptor_leaves_the_async_fd_working() {
    run_bounded(LIMIT, || async {
        let (reader, writer) = pipe();
        let (mut reader, writer) = (AsyncFd::for_reading(reader)?, AsyncFd::for_writing(writer)?);
        write_all(&writer, b"abcd").await?;
        reader.readable().await?;
        // `Read for File` takes `&mut`: what `get_mut` is for.
        let mut two = [0u8; 2];
        reader.get_mut().read_exact(&mut two)?;
        assert_eq!(&two, b"ab");
        let n = reader.read_with(|mut file| file.read(&mut two)).await?;
        assert_eq!(&two[..n], b"cd");
        io::Result::Ok(())
    })
    .expect("get_mut");
}

/// A semaphore `eventfd` (Linux) holding a huge count: every read takes
/// one, every write adds one, so it stays readable and writable however
/// long a loop reads or writes it.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn always_ready_eventfd() -> io::Result<AsyncFd<File>> {
    // SAFETY: eventfd takes no pointers; a -1 is checked below.
    let fd = unsafe {
        libc::eventfd(
            0,
            libc::EFD_NONBLOCK | libc::EFD_CLOEXEC | libc::EFD_SEMAPHORE,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `eventfd` just opened it, and nothing else owns it.
    let event = AsyncFd::new(unsafe { File::from_raw_fd(fd) })?;
    event.get_ref().write_all(&(1u64 << 62).to_ne_bytes())?;
    Ok(event)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
#[cfg_attr(miri, ignore = "Miri: its fstat calls an eventfd a regular file")]
fn loops_of_readable_or_writable_and_a_try_on_an_always_ready_fd_let_other_tasks_run() {
    // `readable` then `try_read_with` is the pattern the type's docs give.
    // With a descriptor that never runs dry, neither call ever waits, so
    // only the budget can hand the thread to another task: without it the
    // loop ran its million passes while the other task never started.
    const PASSES: u32 = 1_000_000;
    run_bounded(LIMIT, || async {
        let event = always_ready_eventfd()?;
        for writing in [false, true] {
            let other_ran = std::rc::Rc::new(std::cell::Cell::new(false));
            let mut other = None;
            let mut passes = 0;
            while !other_ran.get() && passes < PASSES {
                // After the first pass, whose wait for the driver's first
                // event lets every task run.
                if passes == 1 {
                    let flag = std::rc::Rc::clone(&other_ran);
                    other = Some(eddy::spawn(async move { flag.set(true) }));
                }
                if writing {
                    event.writable().await?;
                    event.try_write_with(|mut file| file.write(&1u64.to_ne_bytes()))?;
                } else {
                    event.readable().await?;
                    let mut count = [0u8; 8];
                    event.try_read_with(|mut file| file.read(&mut count))?;
                }
                passes += 1;
            }
            assert!(
                other_ran.get(),
                "{} passes of {} and a try on an always-ready eventfd never let another task run",
                passes,
                if writing { "writable" } else { "readable" },
            );
            other.expect("spawned").await.expect("the other task");
        }
        io::Result::Ok(())
    })
    .expect("always-ready eventfd");
}

/// `poll_read_with` and `poll_write_with` spend a unit of the task's budget
/// only when they complete, as their docs say (`Pending` spends none, as
/// for every socket read): before, a call that found the readiness stale
/// (the closure said `WouldBlock`) had spent a unit on it and returned
/// `Pending`, so a task polling many descriptors used its budget up on
/// those with nothing to read. Seen here with a budget of 1: a stale
/// `poll_read_with` must leave that unit to the next operation, so that a
/// second readiness poll of a ready pipe in the same task poll still goes
/// ahead on its direction's pass instead of being refused.
#[test]
#[cfg_attr(miri, ignore = "Miri: the driver's epoll wait")]
fn a_poll_read_with_that_finds_nothing_spends_no_budget() {
    use std::future::poll_fn;
    use std::task::Poll;

    with_deadline(LIMIT, || {
        let rt = eddy::Builder::new().budget(1).build().unwrap();
        rt.block_on(async {
            let (stale_reader, mut stale_writer) = pipe();
            let (ready_reader, mut ready_writer) = pipe();
            let (stale, ready) = (AsyncFd::new(stale_reader)?, AsyncFd::new(ready_reader)?);
            stale_writer.write_all(b"x")?;
            ready_writer.write_all(b"y")?;
            stale.readable().await?;
            ready.readable().await?;
            // Read behind the `AsyncFd`'s back: its readiness is now stale.
            let mut byte = [0u8; 1];
            assert_eq!(stale.get_ref().read(&mut byte)?, 1);
            // A fresh task poll, with the whole budget (one unit).
            eddy::task::yield_now().await;
            let (found_stale, first, second) = poll_fn(|cx| {
                let found_stale = stale.poll_read_with(cx, |mut file| file.read(&mut byte));
                let first = ready.poll_read_ready(cx);
                let second = ready.poll_read_ready(cx);
                Poll::Ready((
                    found_stale.is_pending(),
                    first.is_ready(),
                    second.is_ready(),
                ))
            })
            .await;
            assert!(found_stale, "the stale pipe had nothing to read");
            assert!(first, "the ready pipe's first readiness poll");
            assert!(
                second,
                "the ready pipe's second readiness poll was refused: the stale \
                 poll_read_with that returned Pending had spent the only unit"
            );
            io::Result::Ok(())
        })
        .expect("pipes");
    });
}
