//! A small HTTP/1.1 server: `GET /` answers "Hello, world!", over
//! keep-alive connections, pipelined requests included.
//!
//! ```sh
//! cargo run --release --example http_hello               # 127.0.0.1:8080
//! cargo run --release --example http_hello -- --addr 0.0.0.0:8080
//! ```
//!
//! Then `curl -v http://127.0.0.1:8080/`, or load it with
//! `wrk -t1 -c64 -d5s http://127.0.0.1:8080/`. Ctrl-C stops it.
//!
//! What it answers: `GET`/`HEAD /` -> 200, any other path -> 404, another
//! method on `/` -> 405, anything it cannot parse -> 400 and the connection
//! closes; so does an HTTP/1.1 request without exactly one `Host` header
//! (RFC 9112 section 3.2). Request bodies (`Content-Length`) are read and
//! ignored; chunked request bodies are refused with 501. HTTP/1.1
//! connections stay open until the client sends `close` among its
//! `Connection` options (HTTP/1.0 ones close unless it sends
//! `Connection: keep-alive`), or stay idle for [`IDLE`] (sending nothing,
//! or reading none of the responses).
//!
//! Lines end at CRLF only: a bare LF is refused with 400 as soon as it
//! arrives, so a client ending lines with LF alone (`nc` without `-C`)
//! gets an answer instead of a wait. Empty lines before a request line are
//! skipped, as RFC 9112 section 2.2 asks (some clients send an extra CRLF
//! after a body); they count towards the head's size limit, so a stream of
//! nothing but empty lines is refused like an overlong head.
//!
//! How it works: each connection reads into a buffer, answers *every*
//! complete request in it (a client may pipeline several in one write),
//! and sends all the responses with one write.

use std::io;
use std::time::Duration;

use eddy::net::{TcpListener, TcpStream};
use eddy_examples::{Flags, close_after_reply};
use futures_lite::future;

/// The largest request head (request line plus headers) accepted.
const MAX_HEAD: usize = 8 * 1024;

/// The largest request body accepted (and thrown away).
const MAX_BODY: usize = 1024 * 1024;

/// How long a connection may sit idle: no bytes from the client (between
/// or inside requests), or none of a response taken by it.
const IDLE: Duration = Duration::from_secs(30);

/// How much to read per `read` call.
const READ_CHUNK: usize = 8 * 1024;

/// The body of the one page.
const HELLO: &str = "Hello, world!\n";

fn main() -> io::Result<()> {
    let mut flags = Flags::from_args();
    let addr: String = flags.take("addr", "127.0.0.1:8080".to_string());
    flags.finish();
    eddy::run(serve(addr))
}

async fn serve(addr: String) -> io::Result<()> {
    let listener = TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    let interrupted = eddy_examples::ctrl_c()?;
    println!("listening on {local}");
    println!("try: curl -v http://{local}/   or   wrk -t1 -c64 -d5s http://{local}/");
    let accepting = async {
        loop {
            match listener.accept().await {
                Ok((stream, _peer)) => {
                    eddy::spawn(connection(stream));
                }
                Err(error) => eprintln!("accept failed: {error}"),
            }
        }
    };
    future::or(accepting, interrupted).await?;
    println!("http_hello: shutting down");
    Ok(())
}

/// Serves one connection; its errors end only this connection.
async fn connection(mut stream: TcpStream) {
    // Responses are already batched, one write per read. Nagle's algorithm
    // would hold a small one back while the previous one is unacknowledged
    // (and the client delays its ACK), adding latency to keep-alive.
    let _ = stream.set_nodelay(true);
    if let Ok(true) = serve_requests(&mut stream).await {
        close_after_reply(stream).await;
    }
}

/// One parsed request: just what the response depends on.
struct Request {
    /// `GET`, `HEAD`, ...
    method: String,
    /// The path (and query) asked for.
    target: String,
    /// Whether the connection stays open after the response.
    keep_alive: bool,
    /// Bytes of head and body, to drop from the input buffer.
    len: usize,
}

/// Why a request cannot be served; the connection closes after saying so.
struct Refusal {
    /// Status code and reason phrase, e.g. `400 Bad Request`, also sent as
    /// the body.
    status: &'static str,
}

/// Answers requests until the client closes (`Ok(false)`) or the
/// connection must close after the last response (`Ok(true)`).
async fn serve_requests(stream: &mut TcpStream) -> io::Result<bool> {
    let mut input: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut output: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    loop {
        let filled = input.len();
        input.resize(filled + READ_CHUNK, 0);
        let n = match eddy::time::timeout(IDLE, stream.read(&mut input[filled..])).await {
            Ok(result) => result?,
            Err(_idle) => return Ok(false),
        };
        input.truncate(filled + n);
        if n == 0 {
            return Ok(false);
        }

        let mut consumed = 0;
        let mut close = false;
        while !close {
            match parse_request(&input[consumed..]) {
                Ok(Some(request)) => {
                    consumed += request.len;
                    close = !request.keep_alive;
                    respond(&request, &mut output);
                }
                Ok(None) => break,
                Err(refusal) => {
                    let body = format!("{}\n", refusal.status);
                    write_response(&mut output, refusal.status, "close", &body, true);
                    close = true;
                }
            }
        }
        input.drain(..consumed);
        // Bounded too: a client that pipelines requests but never reads
        // the responses would otherwise hold its connection forever.
        match eddy::time::timeout(IDLE, stream.write_all(&output)).await {
            Ok(result) => result?,
            Err(_stalled) => return Ok(false),
        }
        output.clear();
        if close {
            return Ok(true);
        }
    }
}

/// Appends the response to `request`.
fn respond(request: &Request, out: &mut Vec<u8>) {
    let connection = if request.keep_alive {
        "keep-alive"
    } else {
        "close"
    };
    let with_body = request.method != "HEAD";
    let (status, body) = match (request.method.as_str(), request.target.as_str()) {
        ("GET" | "HEAD", "/") => ("200 OK", HELLO),
        (_, "/") => ("405 Method Not Allowed", "Method Not Allowed\n"),
        _ => ("404 Not Found", "Not Found\n"),
    };
    write_response(out, status, connection, body, with_body);
}

/// Appends a status line, headers and (unless `with_body` is false, for
/// HEAD) the body.
fn write_response(out: &mut Vec<u8>, status: &str, connection: &str, body: &str, with_body: bool) {
    let allow = if status.starts_with("405") {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: {connection}\r\n{allow}\r\n",
        body.len()
    );
    out.extend_from_slice(head.as_bytes());
    if with_body {
        out.extend_from_slice(body.as_bytes());
    }
}

/// Parses the request at the front of `buf`: `None` until its head and body
/// have fully arrived.
fn parse_request(buf: &[u8]) -> Result<Option<Request>, Refusal> {
    const BAD: Refusal = Refusal {
        status: "400 Bad Request",
    };
    const TOO_LARGE: Refusal = Refusal {
        status: "431 Request Header Fields Too Large",
    };
    // The empty lines stay in the buffer until the request after them is
    // complete, and count as part of its head: without a limit on them, a
    // client sending only CRLFs would be waited on forever.
    let blank = leading_empty_lines(buf);
    let Some(head_len) = find_head_end(&buf[blank..]).map(|len| blank + len) else {
        if buf.len() > MAX_HEAD {
            return Err(TOO_LARGE);
        }
        // Refused below once the head is complete, and a head with LF
        // line ends never completes: refuse it now, not after IDLE.
        if has_bare_lf(&buf[blank..]) {
            return Err(BAD);
        }
        return Ok(None);
    };
    // Checked again on a complete head: one that ends in the read that
    // takes the buffer past MAX_HEAD (up to a read's worth longer) was
    // served otherwise.
    if head_len > MAX_HEAD {
        return Err(TOO_LARGE);
    }
    let head = std::str::from_utf8(&buf[blank..head_len]).map_err(|_| BAD)?;
    // Lines end at CRLF only. A bare CR or LF, or a NUL, inside one makes
    // it invalid (RFC 9110 section 5.5): taken as part of a header value,
    // it could hide a header from us, `Content-Length` say, that a proxy
    // in front ending lines at a bare LF would see (request smuggling).
    if head
        .split("\r\n")
        .any(|line| line.contains(['\r', '\n', '\0']))
    {
        return Err(BAD);
    }
    let mut lines = head.split("\r\n");
    let (method, target, version) = parse_request_line(lines.next().unwrap_or(""))?;

    let mut close_asked = false;
    let mut keep_alive_asked = false;
    let mut hosts = 0;
    let mut body_len = None;
    for line in lines.take_while(|line| !line.is_empty()) {
        let (name, value) = line.split_once(':').ok_or(BAD)?;
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(BAD);
        }
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            // Digits only: `parse` would also take a leading `+`.
            if !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(BAD);
            }
            let len = value.parse::<usize>().map_err(|_| BAD)?;
            // Two different lengths make the body's end ambiguous, and a
            // proxy in front that picked the other one would see a
            // different next request than we do (request smuggling).
            if body_len.is_some_and(|earlier| earlier != len) {
                return Err(BAD);
            }
            body_len = Some(len);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(Refusal {
                status: "501 Not Implemented",
            });
        } else if name.eq_ignore_ascii_case("connection") {
            for option in value.split(',').map(str::trim) {
                close_asked |= option.eq_ignore_ascii_case("close");
                keep_alive_asked |= option.eq_ignore_ascii_case("keep-alive");
            }
        } else if name.eq_ignore_ascii_case("host") {
            hosts += 1;
        }
    }
    // RFC 9112 section 3.2: an HTTP/1.1 request names its host once.
    if version == "HTTP/1.1" && hosts != 1 {
        return Err(BAD);
    }
    // `close` wins over `keep-alive`, wherever each is (section 9.6).
    let keep_alive = !close_asked && (version == "HTTP/1.1" || keep_alive_asked);
    let body_len = body_len.unwrap_or(0);
    if body_len > MAX_BODY {
        return Err(Refusal {
            status: "413 Content Too Large",
        });
    }
    let len = head_len + body_len;
    if buf.len() < len {
        return Ok(None);
    }
    Ok(Some(Request {
        method: method.to_string(),
        target: target.to_string(),
        keep_alive,
        len,
    }))
}

/// `METHOD SP TARGET SP HTTP/1.x`.
fn parse_request_line(line: &str) -> Result<(&str, &str, &str), Refusal> {
    const BAD: Refusal = Refusal {
        status: "400 Bad Request",
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(BAD);
    };
    if method.is_empty() || !method.bytes().all(is_token_byte) || !target.starts_with('/') {
        return Err(BAD);
    }
    match version {
        "HTTP/1.1" | "HTTP/1.0" => Ok((method, target, version)),
        _ => Err(BAD),
    }
}

/// The length of the empty lines (CRLFs) at the front of `buf`.
fn leading_empty_lines(buf: &[u8]) -> usize {
    let pairs = buf.chunks_exact(2).take_while(|pair| pair == b"\r\n");
    2 * pairs.count()
}

/// The length of the head including its closing blank line, if complete.
fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4)
}

/// Whether `buf` holds an LF that no CR comes right before.
fn has_bare_lf(buf: &[u8]) -> bool {
    let at_start = buf.first() == Some(&b'\n');
    at_start
        || buf
            .windows(2)
            .any(|pair| pair[1] == b'\n' && pair[0] != b'\r')
}

/// Whether `b` may appear in a method or header name (RFC 9110 `tchar`).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}
