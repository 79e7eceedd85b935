//! hyper on eddy, end to end: the server from this crate on a loopback
//! port, spoken to with raw HTTP/1.1 over `std::net::TcpStream` (a client
//! that shares no code with the server), plus the executor and timer
//! adapters on their own.
//!
//! Every blocking read has a generous timeout: it only turns a hang into a
//! failure, it is never a performance threshold.

use std::cell::Cell;
use std::future::Future;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use eddy::net::TcpListener;
use eddy_hyper_example::{EddyExecutor, EddySleep, EddyTimer, HELLO, http1_builder, serve};
use hyper::rt::{Executor, Timer};
use hyper::server::conn::http1;

/// How long a test waits for any one thing before calling it a hang.
const HANG: Duration = Duration::from_secs(20);

/// Starts the hello server with `builder` on a port of its own, on a
/// runtime on its own thread, and returns its address. The thread serves
/// until the test process exits.
fn start_server(builder: http1::Builder) -> SocketAddr {
    let (addr_tx, addr_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = eddy::Runtime::new().expect("runtime");
        runtime.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            addr_tx.send(listener.local_addr()?).expect("test waits");
            serve(listener, builder).await
        })
    });
    addr_rx.recv_timeout(HANG).expect("server started")
}

/// A connected client with hang guards on both directions.
fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(HANG)).unwrap();
    stream.set_write_timeout(Some(HANG)).unwrap();
    stream
}

/// One parsed response: status line, lower-cased headers, body.
#[derive(Debug)]
struct Response {
    /// `HTTP/1.1 200 OK`.
    status_line: String,
    /// Header names lower-cased, values as sent.
    headers: Vec<(String, String)>,
    /// Exactly `content-length` bytes.
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one response with a `content-length` body from `stream`, byte by
/// byte up to the blank line so nothing of a following response is eaten.
fn read_response(stream: &mut TcpStream) -> Response {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).expect("read response head");
        assert_eq!(n, 1, "connection closed mid-head after {head:?}");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).expect("ASCII head");
    let mut lines = head.trim_end().split("\r\n");
    let status_line = lines.next().unwrap().to_string();
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':').expect("header line has a colon");
            (name.to_ascii_lowercase(), value.trim().to_string())
        })
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map(|(_, v)| v.parse().expect("numeric content-length"))
        .expect("response has content-length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).expect("read body");
    Response {
        status_line,
        headers,
        body,
    }
}

fn assert_hello(response: &Response) {
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    assert_eq!(response.body, HELLO.as_bytes());
    assert_eq!(response.header("content-length"), Some("13"));
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(
        response.header("date").is_some(),
        "hyper adds a date header"
    );
}

/// Reads until end of stream; what came before it.
fn read_to_eof(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest)?;
    Ok(rest)
}

#[test]
fn keep_alive_serves_two_requests_on_one_connection() {
    let addr = start_server(http1_builder());
    let mut stream = connect(addr);
    for path in ["/", "/second"] {
        write!(stream, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
        let response = read_response(&mut stream);
        assert_hello(&response);
        assert_eq!(response.header("connection"), None, "stays open");
    }
}

#[test]
fn pipelined_requests_are_answered_in_order_on_one_connection() {
    let addr = start_server(http1_builder());
    let mut stream = connect(addr);
    // Both requests in one write: hyper parses the second from what is left
    // in its read buffer after the first.
    stream
        .write_all(b"GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    assert_hello(&read_response(&mut stream));
    assert_hello(&read_response(&mut stream));
}

#[test]
fn connection_close_gets_the_reply_then_end_of_stream() {
    let addr = start_server(http1_builder());
    let mut stream = connect(addr);
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .unwrap();
    let response = read_response(&mut stream);
    assert_hello(&response);
    assert_eq!(response.header("connection"), Some("close"));
    assert_eq!(
        read_to_eof(&mut stream).unwrap(),
        b"",
        "nothing after the body"
    );
}

#[test]
fn a_client_that_half_closes_after_its_request_still_gets_the_reply() {
    let addr = start_server(http1_builder());
    // Several times: without half_close(true) hyper saw the end-of-stream
    // before writing the response nearly every time, and dropped it.
    for _ in 0..10 {
        let mut stream = connect(addr);
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            .unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        assert_hello(&read_response(&mut stream));
        assert_eq!(read_to_eof(&mut stream).unwrap(), b"", "then the end");
    }
}

#[test]
fn malformed_request_gets_400_and_the_server_keeps_serving() {
    let addr = start_server(http1_builder());
    let mut bad = connect(addr);
    bad.write_all(b"NOT HTTP AT ALL\r\n\r\n").unwrap();
    let reply = String::from_utf8(read_to_eof(&mut bad).unwrap()).unwrap();
    assert!(
        reply.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "got {reply:?}"
    );

    let mut good = connect(addr);
    good.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    assert_hello(&read_response(&mut good));
}

/// The timer adapter drives hyper's header read timeout: a client that
/// connects and sends nothing is disconnected. Without a working timer
/// hyper would wait forever and the read below would fail with its hang
/// guard instead of seeing end of stream.
#[test]
fn header_read_timeout_closes_a_silent_connection() {
    let mut builder = http1_builder();
    builder.header_read_timeout(Duration::from_millis(100));
    let addr = start_server(builder);
    let mut silent = connect(addr);
    let started = Instant::now();
    let reply = read_to_eof(&mut silent).expect("server closes before the hang guard");
    // hyper 1.x closes without a response on a header timeout.
    assert_eq!(String::from_utf8_lossy(&reply), "");
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "not before the timeout"
    );

    // Only that connection ended: the server (and its accept loop) did not
    // die, which would also have closed the silent connection.
    let mut next = connect(addr);
    next.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    assert_hello(&read_response(&mut next));
}

/// A request that starts but never finishes its head is cut off too: the
/// timeout runs from the start of the head, not from its first byte.
#[test]
fn header_read_timeout_closes_a_connection_with_a_half_sent_head() {
    let mut builder = http1_builder();
    builder.header_read_timeout(Duration::from_millis(100));
    let addr = start_server(builder);
    let mut slow = connect(addr);
    slow.write_all(b"GET / HTTP/1.1\r\nHost: te").unwrap();
    let reply = read_to_eof(&mut slow).expect("server closes before the hang guard");
    assert_eq!(String::from_utf8_lossy(&reply), "");
}

#[test]
fn executor_runs_a_spawned_future_that_is_not_send() {
    eddy::run(async {
        let ran = Rc::new(Cell::new(false)); // Rc: not Send, and that is fine
        let flag = ran.clone();
        EddyExecutor.execute(async move { flag.set(true) });
        // The task runs at a later tick of this runtime; yielding hands the
        // runtime those ticks. The bound only turns "never ran" into a
        // failure instead of a hang.
        for _ in 0..1000 {
            if ran.get() {
                break;
            }
            eddy::task::yield_now().await;
        }
        assert!(ran.get(), "the executed future ran");
    });
}

#[test]
fn executor_tasks_outlive_the_call_that_spawned_them() {
    eddy::run(async {
        let (tx, rx) = mpsc::channel();
        EddyExecutor.execute(async move {
            eddy::time::sleep(Duration::from_millis(5)).await;
            tx.send("finished after a sleep").unwrap();
        });
        let done = eddy::time::timeout(HANG, async {
            loop {
                if let Ok(message) = rx.try_recv() {
                    return message;
                }
                eddy::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("the detached task finished");
        assert_eq!(done, "finished after a sleep");
    });
}

#[test]
fn timer_sleep_and_sleep_until_wait_at_least_their_time() {
    eddy::run(async {
        let start = Instant::now();
        EddyTimer.sleep(Duration::from_millis(20)).await;
        assert!(start.elapsed() >= Duration::from_millis(20));
        let deadline = Instant::now() + Duration::from_millis(20);
        EddyTimer.sleep_until(deadline).await;
        assert!(Instant::now() >= deadline);
    });
}

#[test]
fn timer_reset_moves_an_eddy_sleep_in_place() {
    eddy::run(async {
        let mut sleep = EddyTimer.sleep(Duration::from_secs(3600));
        let before: *const () = (&*sleep as *const dyn hyper::rt::Sleep).cast();
        let deadline = Instant::now() + Duration::from_millis(10);
        EddyTimer.reset(&mut sleep, deadline);
        let after: *const () = (&*sleep as *const dyn hyper::rt::Sleep).cast();
        assert_eq!(before, after, "same allocation: moved, not replaced");
        assert!(sleep.as_mut().downcast_mut_pin::<EddySleep>().is_some());
        eddy::time::timeout(HANG, sleep)
            .await
            .expect("fires at the new deadline, not in an hour");
        assert!(Instant::now() >= deadline);
    });
}

/// A `Sleep` from some other timer, pending forever.
struct ForeignSleep;

impl Future for ForeignSleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

impl hyper::rt::Sleep for ForeignSleep {}

#[test]
fn timer_reset_replaces_a_foreign_sleep_with_an_eddy_one() {
    eddy::run(async {
        let mut sleep: Pin<Box<dyn hyper::rt::Sleep>> = Box::pin(ForeignSleep);
        EddyTimer.reset(&mut sleep, Instant::now() + Duration::from_millis(1));
        assert!(sleep.as_mut().downcast_mut_pin::<EddySleep>().is_some());
        eddy::time::timeout(HANG, sleep)
            .await
            .expect("the replacement fires");
    });
}
