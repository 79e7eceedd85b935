//! `http_hello`: keep-alive, pipelining, and malformed, oversized or
//! ambiguous requests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};

use crate::{Example, connect};

/// An HTTP response as the tests see it.
#[derive(Debug)]
struct Response {
    /// E.g. `HTTP/1.1 200 OK`.
    status: String,
    /// Header lines, `Name: value`.
    headers: Vec<String>,
    /// Exactly `Content-Length` bytes.
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// Reads one response (head, then a `Content-Length` body).
fn read_response(reader: &mut BufReader<TcpStream>) -> Response {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("read a head line");
        assert!(line.ends_with("\r\n"), "truncated head line {line:?}");
        if line == "\r\n" {
            break;
        }
        head.push(line.trim_end().to_string());
    }
    let status = head.remove(0);
    let mut response = Response {
        status,
        headers: head,
        body: String::new(),
    };
    let len: usize = response
        .header("content-length")
        .expect("every response has a Content-Length")
        .parse()
        .unwrap();
    let mut body = vec![0; len];
    reader.read_exact(&mut body).expect("read the body");
    response.body = String::from_utf8(body).unwrap();
    response
}

/// A connection to the HTTP example: the writing socket and a reader.
fn http_connect(addr: SocketAddr) -> (TcpStream, BufReader<TcpStream>) {
    let stream = connect(addr);
    (stream.try_clone().unwrap(), BufReader::new(stream))
}

/// Asserts the server has closed the connection.
fn assert_http_closed(reader: &mut BufReader<TcpStream>) {
    let mut rest = Vec::new();
    reader
        .read_to_end(&mut rest)
        .expect("read to end-of-stream");
    assert_eq!(String::from_utf8_lossy(&rest), "");
}

const GET_ROOT: &str = "GET / HTTP/1.1\r\nHost: test\r\n\r\n";

#[test]
fn http_hello_answers_get_root_with_hello_world() {
    let (_server, addr) = Example::serve("http_hello", &[]);
    let (mut writer, mut reader) = http_connect(addr);
    writer
        .write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .unwrap();
    let response = read_response(&mut reader);
    assert_eq!(response.status, "HTTP/1.1 200 OK");
    assert_eq!(response.body, "Hello, world!\n");
    assert_eq!(response.header("connection"), Some("close"));
    assert_http_closed(&mut reader);
}

#[test]
fn http_hello_keeps_the_connection_alive_between_requests() {
    let (_server, addr) = Example::serve("http_hello", &[]);
    let (mut writer, mut reader) = http_connect(addr);
    for _ in 0..2 {
        writer.write_all(GET_ROOT.as_bytes()).unwrap();
        let response = read_response(&mut reader);
        assert_eq!(response.status, "HTTP/1.1 200 OK");
        assert_eq!(response.header("connection"), Some("keep-alive"));
        assert_eq!(response.body, "Hello, world!\n");
    }
    let missing = "GET /missing HTTP/1.1\r\nHost: test\r\n\r\n";
    writer.write_all(missing.as_bytes()).unwrap();
    assert_eq!(read_response(&mut reader).status, "HTTP/1.1 404 Not Found");
}

#[test]
fn http_hello_answers_pipelined_requests_in_order() {
    let (_server, addr) = Example::serve("http_hello", &[]);
    let (mut writer, mut reader) = http_connect(addr);
    let batch = [
        GET_ROOT,
        "GET /missing HTTP/1.1\r\nHost: test\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello",
        "GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    ]
    .concat();
    writer.write_all(batch.as_bytes()).unwrap();
    let statuses = [
        "200 OK",
        "404 Not Found",
        "405 Method Not Allowed",
        "200 OK",
    ];
    for status in statuses {
        assert_eq!(
            read_response(&mut reader).status,
            format!("HTTP/1.1 {status}")
        );
    }
    assert_http_closed(&mut reader);
}

/// Sends a good request and then `request` on one connection: the good
/// one is answered, then `request` gets a 400 and the connection closes.
fn assert_refused_with_400_after_a_good_request(addr: SocketAddr, request: &str) {
    let (mut writer, mut reader) = http_connect(addr);
    writer
        .write_all(format!("{GET_ROOT}{request}").as_bytes())
        .unwrap();
    assert_eq!(read_response(&mut reader).status, "HTTP/1.1 200 OK");
    let response = read_response(&mut reader);
    assert_eq!(
        response.status, "HTTP/1.1 400 Bad Request",
        "for {request:?}"
    );
    assert_eq!(response.header("connection"), Some("close"));
    assert_http_closed(&mut reader);
}

#[test]
fn http_hello_answers_malformed_requests_with_400_and_keeps_serving() {
    let (_server, addr) = Example::serve("http_hello", &[]);
    let malformed = [
        "NOT A REQUEST\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        "GET / HTTP/1.1\r\nno colon here\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: lots\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: +0\r\n\r\n",
        // Which one ends the body? A proxy that picked the other length
        // would see a different next request (request smuggling).
        "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 0\r\n\r\nx",
    ];
    for request in malformed {
        assert_refused_with_400_after_a_good_request(addr, request);
    }
    let (mut writer, mut reader) = http_connect(addr);
    writer.write_all(GET_ROOT.as_bytes()).unwrap();
    assert_eq!(read_response(&mut reader).body, "Hello, world!\n");
}

#[test]
fn http_hello_refuses_a_bare_cr_or_lf_or_a_nul_inside_a_head_line_with_400() {
    let (_server, addr) = Example::serve("http_hello", &[]);
    // Lines end at CRLF only. RFC 9110 section 5.5: a field value with a
    // CR, LF or NUL in it is invalid, and its recipient must refuse it or
    // make each one a space. Read as part of the line instead, the first
    // request hides a Content-Length from us that a proxy in front ending
    // lines at a bare LF (RFC 9112 section 2.2 allows it) would honour:
    // to the proxy `GET /smuggled` is a body, to us a second request.
    let smuggled = "GET /smuggled HTTP/1.1\r\n\r\n";
    let bare_lf = format!(
        "GET / HTTP/1.1\r\nX-Note: a\nContent-Length: {}\r\n\r\n{smuggled}",
        smuggled.len()
    );
    let malformed = [
        bare_lf.as_str(),
        "GET / HTTP/1.1\r\nX-Note: a\rContent-Length: 0\r\n\r\n",
        "GET / HTTP/1.1\r\nX-Note: a\0b\r\n\r\n",
        "GET /\r HTTP/1.1\r\n\r\n",
    ];
    for request in malformed {
        assert_refused_with_400_after_a_good_request(addr, request);
    }
}

#[test]
fn http_hello_answers_lf_only_line_ends_with_400_without_waiting_for_more() {
    let (_server, addr) = Example::serve("http_hello", &[]);
    // What `nc` sends without `-C`. Such a head never ends in CRLF CRLF:
    // waited for, it got no answer until the idle timeout closed it.
    // The writer stays open, so only the server can end this.
    for request in ["GET / HTTP/1.1\nHost: test\n\n", "\nGET / HTTP/1.1\r\n"] {
        assert_refused_with_400_after_a_good_request(addr, request);
    }
}

#[test]
fn http_hello_refuses_an_http_1_1_request_without_exactly_one_host_with_400() {
    let (_server, addr) = Example::serve("http_hello", &[]);
    // RFC 9112 section 3.2: a server must answer 400 to an HTTP/1.1
    // request with no Host or more than one. HTTP/1.0 needs none.
    for (request, status) in [
        ("GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"),
        (
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "HTTP/1.1 400 Bad Request",
        ),
        ("GET / HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK"),
    ] {
        let (mut writer, mut reader) = http_connect(addr);
        writer.write_all(request.as_bytes()).unwrap();
        let response = read_response(&mut reader);
        assert_eq!(response.status, status, "for {request:?}");
        assert_http_closed(&mut reader);
    }
}

#[test]
fn http_hello_closes_when_close_is_among_the_connection_options_wherever_it_is() {
    let (_server, addr) = Example::serve("http_hello", &[]);
    // RFC 9112 section 9.6: `close` means close, whatever else is listed.
    for options in ["close, keep-alive", "keep-alive, close", "Upgrade, Close"] {
        let (mut writer, mut reader) = http_connect(addr);
        let request = format!("GET / HTTP/1.1\r\nHost: test\r\nConnection: {options}\r\n\r\n");
        writer.write_all(request.as_bytes()).unwrap();
        let response = read_response(&mut reader);
        assert_eq!(response.status, "HTTP/1.1 200 OK");
        assert_eq!(
            response.header("connection"),
            Some("close"),
            "for Connection: {options}"
        );
        assert_http_closed(&mut reader);
    }
}

#[test]
fn http_hello_refuses_a_complete_head_longer_than_its_limit_with_431() {
    let (_server, addr) = Example::serve("http_hello", &[]);
    // 9 KiB, past the 8 KiB limit but within two reads: it used to be
    // checked only while still incomplete, so it was served.
    let long_header = format!("X-Filler: {}\r\n", "a".repeat(9 * 1024));
    let (mut writer, mut reader) = http_connect(addr);
    writer
        .write_all(format!("GET / HTTP/1.1\r\nHost: test\r\n{long_header}\r\n").as_bytes())
        .unwrap();
    let response = read_response(&mut reader);
    assert_eq!(
        response.status,
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    assert_http_closed(&mut reader);
}

#[test]
fn http_hello_ignores_empty_lines_before_a_request_line() {
    let (_server, addr) = Example::serve("http_hello", &[]);
    let (mut writer, mut reader) = http_connect(addr);
    // RFC 9112 section 2.2: a server SHOULD ignore at least one empty line
    // before the request line; some clients send one after a body.
    writer
        .write_all(b"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let response = read_response(&mut reader);
    assert_eq!(response.status, "HTTP/1.1 200 OK");
    assert_eq!(response.body, "Hello, world!\n");
    assert_eq!(response.header("connection"), Some("keep-alive"));
    // The next request on the same connection, after two of them.
    writer
        .write_all(format!("\r\n\r\n{GET_ROOT}").as_bytes())
        .unwrap();
    let response = read_response(&mut reader);
    assert_eq!(response.status, "HTTP/1.1 200 OK");
    assert_eq!(response.body, "Hello, world!\n");
}

#[test]
fn http_hello_counts_empty_lines_before_a_request_line_against_its_head_limit() {
    let (_server, addr) = Example::serve("http_hello", &[]);
    let (mut writer, mut reader) = http_connect(addr);
    // 10 KB of empty lines, past the 8 KiB head limit, and no request:
    // the server must refuse it rather than wait for a request forever.
    writer.write_all("\r\n".repeat(5000).as_bytes()).unwrap();
    let response = read_response(&mut reader);
    assert_eq!(
        response.status,
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    assert_http_closed(&mut reader);
}
