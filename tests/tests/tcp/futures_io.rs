//! `futures-io` interoperability: `eddy::io::copy`, `futures-util`'s
//! extension traits and vectored writes.

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use eddy::net::{TcpListener, TcpStream};
use eddy::time::{sleep, timeout};
use eddy_tests::{run_bounded, tcp_pair};
use futures_util::io::{AsyncReadExt, AsyncWriteExt, Cursor};

use crate::{LIMIT, Server, assert_same_bytes, ms, payload, wait_bounded};

/// Echoes with `eddy::io::copy` from the stream's read half into its write
/// half, then closes through `AsyncWrite::poll_close`.
async fn copy_echo(stream: TcpStream) -> io::Result<u64> {
    let (mut reader, mut writer) = stream.into_split();
    let copied = eddy::io::copy(&mut reader, &mut writer).await?;
    writer.close().await?;
    Ok(copied)
}

#[test]
fn io_copy_and_futures_util_drive_eddy_streams_through_futures_io() {
    run_bounded(LIMIT, || async {
        let server = Server::start(copy_echo).await;
        let sent = payload(31, 300 * 1024);
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        let (mut reader, mut writer) = TcpStream::split(&mut stream);
        // The client side uses only futures-util's extension traits, and
        // copies the echo into a writer that is not eddy's.
        let mut received = Cursor::new(Vec::new());
        let (sending, receiving) = futures_util::future::join(
            async {
                writer.write_all(&sent).await?;
                writer.flush().await?;
                writer.close().await
            },
            eddy::io::copy(&mut reader, &mut received),
        )
        .await;
        sending.expect("send");
        assert_eq!(receiving.expect("copy"), sent.len() as u64);
        assert_same_bytes(received.get_ref(), &sent, "copy echo");

        let mut rest = Vec::new();
        let n = AsyncReadExt::read_to_end(&mut stream, &mut rest)
            .await
            .expect("read_to_end");
        assert_eq!(n, 0, "nothing after EOF");

        server.assert_one_connection_served(sent.len() as u64).await;
    });
}

#[test]
fn io_copy_flushes_a_buffering_writer_while_the_reader_waits() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (mut client, proxy_in) = tcp_pair(&listener).await;
        let (proxy_out, mut upstream) = tcp_pair(&listener).await;
        // A proxy hop through a buffering writer, as a TLS or framing layer
        // would be: 8 KiB of buffer, far more than the request.
        let hop = eddy::spawn(async move {
            let (mut reader, _keep_writing_side) = proxy_in.into_split();
            let mut writer = futures_util::io::BufWriter::with_capacity(8192, proxy_out);
            eddy::io::copy(&mut reader, &mut writer).await
        });
        // The client sends a request and then waits for the reply: the
        // stream stays open, so the copy never reaches end-of-stream.
        client.write_all(b"PING\r\n").await.unwrap();
        let mut buf = [0u8; 16];
        let n = timeout(Duration::from_secs(10), upstream.read(&mut buf))
            .await
            .expect("the request stayed in the copy's writer buffer")
            .expect("read");
        assert_eq!(&buf[..n], b"PING\r\n");
        hop.abort();
    });
}

/// At end-of-stream `copy` flushes its writer before it returns. A copy
/// whose reader is never pending (its bytes and its end come at once) has
/// no other flush: without this one, what it copied stayed in a buffering
/// writer, and `copy` said it was done.
#[test]
fn io_copy_flushes_a_buffering_writer_at_end_of_stream() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (proxy_out, mut upstream) = tcp_pair(&listener).await;
        let mut writer = futures_util::io::BufWriter::with_capacity(8192, proxy_out);
        let mut reader = Cursor::new(b"PING\r\n".to_vec());
        let copied = eddy::io::copy(&mut reader, &mut writer)
            .await
            .expect("copy");
        assert_eq!(copied, 6);
        assert!(
            writer.buffer().is_empty(),
            "copy returned with {} bytes still in the writer's buffer",
            writer.buffer().len()
        );
        let mut buf = [0u8; 6];
        upstream.read_exact(&mut buf).await.expect("read");
        assert_eq!(&buf, b"PING\r\n");
    });
}

/// A writer that accepts nothing: every write is `Ok(0)`. After
/// `ACCEPTS_NOTHING_GIVE_UP` of them it fails with another error, so that a
/// copy that keeps retrying fails its test instead of hanging it.
struct AcceptsNothing {
    /// Writes made to it.
    writes: u32,
}

/// See [`AcceptsNothing`].
const ACCEPTS_NOTHING_GIVE_UP: u32 = 100;

impl futures_util::io::AsyncWrite for AcceptsNothing {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        _buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        self.writes += 1;
        if self.writes > ACCEPTS_NOTHING_GIVE_UP {
            return std::task::Poll::Ready(Err(io::Error::other(
                "the copy kept writing after a write of 0 bytes",
            )));
        }
        std::task::Poll::Ready(Ok(0))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_close(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// A write of 0 bytes means the writer will take no more: `copy` fails
/// with `WriteZero` at the first one. Retried, it never ends.
#[test]
fn io_copy_into_a_writer_that_accepts_nothing_fails_with_write_zero() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (mut client, mut source) = tcp_pair(&listener).await;
        client.write_all(b"data").await.unwrap();
        let mut writer = AcceptsNothing { writes: 0 };
        let error = eddy::io::copy(&mut source, &mut writer)
            .await
            .expect_err("nothing could be written");
        assert_eq!(error.kind(), io::ErrorKind::WriteZero, "{error}");
        assert_eq!(writer.writes, 1);
    });
}

/// A reader or writer whose every other call fails with `Interrupted`
/// before reaching the stream it wraps, as a `read(2)` or `write(2)`
/// interrupted by a signal does: nothing was moved, and the caller is to
/// try again (std's `io::copy` and tokio's do).
struct Interrupts<S> {
    /// The stream read or written.
    inner: S,
    /// Calls made; the odd ones are interrupted.
    calls: u64,
    /// How many calls were interrupted.
    interrupted: Rc<Cell<u64>>,
}

impl<S> Interrupts<S> {
    fn new(inner: S, interrupted: Rc<Cell<u64>>) -> Interrupts<S> {
        Interrupts {
            inner,
            calls: 0,
            interrupted,
        }
    }

    /// Whether this call is one to interrupt.
    fn interrupt(&mut self) -> bool {
        self.calls += 1;
        let interrupt = self.calls % 2 == 1;
        if interrupt {
            self.interrupted.set(self.interrupted.get() + 1);
        }
        interrupt
    }
}

fn interrupted<T>() -> std::task::Poll<io::Result<T>> {
    std::task::Poll::Ready(Err(io::ErrorKind::Interrupted.into()))
}

impl<S: futures_util::io::AsyncRead + Unpin> futures_util::io::AsyncRead for Interrupts<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<io::Result<usize>> {
        if self.interrupt() {
            return interrupted();
        }
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: futures_util::io::AsyncWrite + Unpin> futures_util::io::AsyncWrite for Interrupts<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        if self.interrupt() {
            return interrupted();
        }
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        if self.interrupt() {
            return interrupted();
        }
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_close(cx)
    }
}

/// `Interrupted` means "nothing happened, try again": `copy` retries the
/// read, write or flush that returned it and copies every byte, where it
/// used to end the copy with the error at the first one.
#[test]
fn io_copy_retries_reads_writes_and_flushes_that_were_interrupted() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (mut feeder, source) = tcp_pair(&listener).await;
        let (destination, mut sink) = tcp_pair(&listener).await;
        let sent = payload(47, 200 * 1024);
        let interrupted = Rc::new(Cell::new(0));
        let (copy, fed, received) = futures_util::future::join3(
            async {
                let mut reader = Interrupts::new(source, interrupted.clone());
                let mut writer = Interrupts::new(destination, interrupted.clone());
                let copied = eddy::io::copy(&mut reader, &mut writer).await?;
                writer.inner.close().await?;
                io::Result::Ok(copied)
            },
            async {
                feeder.write_all(&sent).await?;
                feeder.close().await
            },
            async {
                let mut received = Vec::new();
                sink.read_to_end(&mut received).await.map(|_| received)
            },
        )
        .await;
        fed.expect("feed");
        assert_eq!(copy.expect("the copy") as usize, sent.len());
        assert_same_bytes(&received.expect("receive"), &sent, "the copy");
        assert!(
            interrupted.get() >= 3,
            "interrupted {} times",
            interrupted.get()
        );
    });
}

/// A writer that counts the `Pending`s its inner writer returned since it
/// last wrote: a copy that spins re-polls it without being woken.
struct CountsPendings<W> {
    /// The writer written to.
    inner: W,
    /// `Pending`s in a row; reset by every completed write.
    in_a_row: Rc<Cell<u64>>,
}

impl<W: futures_util::io::AsyncWrite + Unpin> futures_util::io::AsyncWrite for CountsPendings<W> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        match polled {
            std::task::Poll::Pending => self.in_a_row.set(self.in_a_row.get() + 1),
            std::task::Poll::Ready(_) => self.in_a_row.set(0),
        }
        polled
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_close(cx)
    }
}

#[test]
fn io_copy_into_a_peer_that_stops_reading_waits_instead_of_spinning() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (mut feeder, source) = tcp_pair(&listener).await;
        // `_sink` never reads: once its buffers and the copy's are full,
        // nothing can move until it does.
        let (destination, _sink) = tcp_pair(&listener).await;
        let in_a_row = Rc::new(Cell::new(0));
        let mut writer = CountsPendings {
            inner: destination,
            in_a_row: in_a_row.clone(),
        };
        let copy = eddy::spawn(async move {
            let (mut reader, _write_side) = source.into_split();
            eddy::io::copy(&mut reader, &mut writer).await
        });
        let feed = eddy::spawn(async move {
            let chunk = vec![3u8; 64 * 1024];
            // Ends only with an error: it writes until the copy stops
            // taking bytes, then waits.
            loop {
                if let Err(error) = feeder.write_all(&chunk).await {
                    return error;
                }
            }
        });
        wait_bounded("the copy's writer is full", || in_a_row.get() > 0).await;
        // Space the kernel frees as the last segments are acknowledged may
        // still wake the copy, and each such wake writes (and resets the
        // count). A spin would return `Pending` thousands of times here.
        sleep(ms(100)).await;
        let pendings = in_a_row.get();
        assert!(
            pendings <= 3,
            "the stalled copy's writer said Pending {pendings} times in a row"
        );
        assert!(!copy.is_finished() && !feed.is_finished(), "nothing ended");
        copy.abort();
        feed.abort();
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no sendmsg")]
fn a_vectored_write_of_more_slices_than_iov_max_writes_a_prefix_instead_of_failing() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (mut client, mut server) = tcp_pair(&listener).await;
        // 4096 one-byte slices: four times `IOV_MAX` (1024 on Linux and the
        // BSDs), few enough bytes for an empty loopback socket buffer.
        let sent = payload(41, 4096);
        let slices: Vec<io::IoSlice<'_>> = sent.chunks(1).map(io::IoSlice::new).collect();
        let n = AsyncWriteExt::write_vectored(&mut client, &slices)
            .await
            .expect("a vectored write of many slices writes what it can, like std's");
        assert!(
            n > 0 && n <= sent.len(),
            "wrote {n} of {} bytes",
            sent.len()
        );
        let mut got = vec![0u8; n];
        server.read_exact(&mut got).await.expect("read");
        assert_same_bytes(&got, &sent[..n], "the written prefix");
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no sendmsg")]
fn a_vectored_write_through_either_write_half_sends_every_slice_in_one_call() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        // A header and a body, as a protocol writes a frame: written one
        // slice per call, the body may wait behind Nagle for the header's
        // ACK, which the peer delays (write-write-read).
        let frame = [io::IoSlice::new(b"header:"), io::IoSlice::new(b"body")];
        let (mut stream, _peer) = tcp_pair(&listener).await;
        let whole = AsyncWriteExt::write_vectored(&mut stream, &frame)
            .await
            .expect("stream");
        let (mut borrowed, mut peer) = tcp_pair(&listener).await;
        let (_, mut borrowed_half) = TcpStream::split(&mut borrowed);
        let borrowed_wrote = AsyncWriteExt::write_vectored(&mut borrowed_half, &frame)
            .await
            .expect("borrowed half");
        let (owned, mut owned_peer) = tcp_pair(&listener).await;
        let (_read, mut owned_half) = owned.into_split();
        let owned_wrote = AsyncWriteExt::write_vectored(&mut owned_half, &frame)
            .await
            .expect("owned half");
        // An empty loopback socket takes all 11 bytes in one `sendmsg`.
        assert_eq!(whole, 11);
        assert_eq!(
            (borrowed_wrote, owned_wrote),
            (11, 11),
            "a write half wrote one slice where the stream wrote both"
        );
        for peer in [&mut peer, &mut owned_peer] {
            let mut got = [0u8; 11];
            peer.read_exact(&mut got).await.expect("read");
            assert_eq!(&got, b"header:body");
        }
    });
}
