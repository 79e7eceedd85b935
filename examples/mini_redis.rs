//! A tiny Redis: an in-memory key-value server speaking RESP2, the
//! protocol of the stock `redis-cli` and `redis-benchmark` tools.
//!
//! ```sh
//! cargo run --release --example mini_redis                # 127.0.0.1:6379
//! cargo run --release --example mini_redis -- --addr 127.0.0.1:6380
//! ```
//!
//! Then, with the Redis command-line tools (`apt-get install redis-tools`):
//!
//! ```sh
//! redis-cli set greeting hello EX 10
//! redis-cli get greeting
//! redis-cli incr visits
//! redis-benchmark -t ping,set,get,incr -P 16 -q    # pipelined load
//! ```
//!
//! or without them: `printf 'PING\r\nQUIT\r\n' | nc 127.0.0.1 6379` (the
//! QUIT closes the connection, so `nc` exits instead of waiting for more).
//!
//! Commands: PING [msg], ECHO msg, SET key value [EX seconds | PX millis],
//! GET key, DEL key..., EXISTS key..., INCR key, QUIT; plus just enough of
//! COMMAND and CONFIG GET for what `redis-cli` and `redis-benchmark` ask
//! at start-up.
//!
//! How it works: each connection reads into a buffer, parses *every*
//! complete command in it (clients may pipeline many per write), runs them
//! in order against the shared store, and sends their replies with one
//! write, or with several when they pile up past 64 KiB: a client that
//! pipelines GETs of a big value and never reads is then held back by TCP
//! backpressure instead of making the server buffer every reply. A command
//! split across reads is parsed from where the last read left off, never
//! from its start again, and may be at most 512 MiB. Keys with an expiry
//! carry a deadline and are removed when next touched after it (a real
//! Redis also sweeps in the background; this one lets never-touched
//! expired keys sit in memory). Malformed input gets an `-ERR Protocol
//! error` reply after the replies to the commands before it, and the
//! connection closes; other connections carry on.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

use eddy::net::{TcpListener, TcpStream};
use eddy_examples::{Flags, close_after_reply};
use futures_lite::future;

/// The largest bulk string accepted, in bytes: a client cannot make the
/// server buffer more than this (plus framing) for one argument.
const MAX_BULK: usize = 64 * 1024 * 1024;

/// The most arguments one command may have.
const MAX_ARGS: usize = 1024 * 1024;

/// How many bytes of an unknown command's name its error quotes.
const MAX_SHOWN: usize = 128;

/// The longest inline command or RESP header line accepted.
const MAX_LINE: usize = 64 * 1024;

/// The largest command accepted, framing included: without it, MAX_ARGS
/// arguments of MAX_BULK bytes each could ask for 64 TiB. (Redis's
/// `client-query-buffer-limit` is 1 GiB.)
const MAX_COMMAND: usize = 512 * 1024 * 1024;

/// How much to read per `read` call.
const READ_CHUNK: usize = 16 * 1024;

/// How many bytes of replies may wait before they are written, even in the
/// middle of a batch of pipelined commands. Without a bound, 16 KiB of
/// `GET k` for a 200 KiB value would make 468 MiB of replies.
const REPLY_FLUSH: usize = 64 * 1024;

/// One stored value.
struct Entry {
    /// The value's bytes.
    value: Vec<u8>,
    /// When it expires, if ever.
    expires: Option<Instant>,
}

/// The key space.
#[derive(Default)]
struct Store {
    /// Every key, live or expired-but-not-yet-touched.
    map: HashMap<Vec<u8>, Entry>,
}

/// The store as every connection shares it. `Rc<RefCell>`: every task runs
/// on the one runtime thread, and no borrow lives across an `.await`.
type Db = Rc<RefCell<Store>>;

/// Why the input could not be parsed; the reply to it is
/// `-ERR Protocol error: <reason>`.
type ProtocolError = &'static str;

/// What parsing gives: the next command's arguments, `None` while only
/// part of one has arrived, or the reason the input is malformed.
type Parsed = Result<Option<Vec<Vec<u8>>>, ProtocolError>;

fn main() -> io::Result<()> {
    let mut flags = Flags::from_args();
    let addr: String = flags.take("addr", "127.0.0.1:6379".to_string());
    flags.finish();
    eddy::run(serve(addr))
}

async fn serve(addr: String) -> io::Result<()> {
    let listener = TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    let interrupted = eddy_examples::ctrl_c()?;
    println!("listening on {local}");
    println!(
        "try: redis-cli -h {} -p {} ping   (or redis-benchmark -h {} -p {} -t ping,set,get,incr -P 16 -q)",
        local.ip(),
        local.port(),
        local.ip(),
        local.port()
    );
    let db = Db::default();
    let accepting = async {
        loop {
            match listener.accept().await {
                Ok((stream, _peer)) => {
                    eddy::spawn(connection(stream, db.clone()));
                }
                Err(error) => eprintln!("accept failed: {error}"),
            }
        }
    };
    future::or(accepting, interrupted).await?;
    println!("mini_redis: shutting down ({} keys)", db.borrow().map.len());
    Ok(())
}

/// Serves one connection; its errors end only this connection.
async fn connection(mut stream: TcpStream, db: Db) {
    // Replies are already batched, one write per read (or per 64 KiB);
    // Nagle's algorithm would only delay them (Redis turns it off too).
    let _ = stream.set_nodelay(true);
    if let Ok(Close::Politely) = serve_commands(&mut stream, &db).await {
        close_after_reply(stream).await;
    }
}

/// How a connection's command loop ended.
enum Close {
    /// The client closed its side: nothing left to say.
    AtEof,
    /// After a protocol error or QUIT: let the client read the last reply.
    Politely,
}

/// Reads, runs and answers commands until the client closes, QUITs or
/// sends something unparseable.
async fn serve_commands(stream: &mut TcpStream, db: &Db) -> io::Result<Close> {
    let mut parser = Parser::default();
    let mut replies: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    loop {
        if parser.read_from(stream).await? == 0 {
            return Ok(Close::AtEof);
        }

        // Run every complete command in the buffer, in order, then reply.
        let mut close = false;
        while !close {
            match parser.next_command() {
                Ok(Some(args)) => {
                    if !args.is_empty() {
                        close = execute(&args, &mut db.borrow_mut(), &mut replies);
                    }
                }
                Ok(None) => break,
                Err(reason) => {
                    replies
                        .extend_from_slice(format!("-ERR Protocol error: {reason}\r\n").as_bytes());
                    close = true;
                }
            }
            // Write now if replies pile up. A client that sends commands
            // but reads no replies then stalls here, on TCP backpressure,
            // and we read no more from it until it catches up.
            if replies.len() >= REPLY_FLUSH {
                stream.write_all(&replies).await?;
                replies.clear();
            }
        }
        stream.write_all(&replies).await?;
        replies.clear();
        if close {
            return Ok(Close::Politely);
        }
    }
}

// ------------------------------------------------------------- parsing

/// Splits what a client sends into commands. Accepts RESP arrays of bulk
/// strings (what clients send) and inline commands (`PING\r\n`, handy
/// with `nc`).
///
/// A big command arrives over many reads, so the parser remembers how far
/// it got: the arguments parsed so far and how many are still to come (as
/// Redis keeps `multibulklen` per client). Every byte is parsed once.
/// Starting the command over on each read instead costs time quadratic in
/// its size: seconds of CPU for a 2 MB command, during which this thread
/// serves no other client.
#[derive(Default)]
struct Parser {
    /// Bytes read from the client; those before `start` are parsed.
    input: Vec<u8>,
    /// Where the unparsed bytes begin. The parsed ones are dropped before
    /// the next read, in one go, rather than after every command.
    start: usize,
    /// The arguments parsed so far of the array command in progress.
    args: Vec<Vec<u8>>,
    /// How many more arguments that command needs; 0 between commands.
    missing: usize,
    /// The bytes that command has taken so far, held to MAX_COMMAND.
    size: usize,
}

impl Parser {
    /// Reads the next piece of input from `stream`; `Ok(0)` means the
    /// client closed its side.
    async fn read_from(&mut self, stream: &mut TcpStream) -> io::Result<usize> {
        self.input.drain(..self.start);
        self.start = 0;
        let filled = self.input.len();
        self.input.resize(filled + READ_CHUNK, 0);
        let n = stream.read(&mut self.input[filled..]).await?;
        self.input.truncate(filled + n);
        Ok(n)
    }

    /// The next complete command from the input read so far.
    fn next_command(&mut self) -> Parsed {
        if self.missing == 0 {
            let Some((text, next)) = line(&self.input, self.start)? else {
                return Ok(None);
            };
            if text.first() != Some(&b'*') {
                // A line of words separated by spaces.
                let args = text
                    .split(|b| b.is_ascii_whitespace())
                    .filter(|word| !word.is_empty())
                    .map(<[u8]>::to_vec)
                    .collect();
                self.start = next;
                return Ok(Some(args));
            }
            // `*<count>\r\n`, then `count` bulk strings.
            let count = parse_len(&text[1..]).ok_or("invalid multibulk length")?;
            if count > MAX_ARGS {
                return Err("invalid multibulk length");
            }
            self.size = next - self.start;
            self.start = next;
            self.missing = count;
            self.args = Vec::with_capacity(count.min(64));
        }
        while self.missing > 0 {
            let Some(arg) = self.bulk_string()? else {
                return Ok(None);
            };
            self.args.push(arg);
            self.missing -= 1;
        }
        Ok(Some(std::mem::take(&mut self.args)))
    }

    /// The next `$<len>\r\n<bytes>\r\n`, or `None` until all of it has
    /// arrived (its header is then parsed again with the rest: a few bytes).
    fn bulk_string(&mut self) -> Result<Option<Vec<u8>>, ProtocolError> {
        let Some((header, body)) = line(&self.input, self.start)? else {
            return Ok(None);
        };
        if header.first() != Some(&b'$') {
            return Err("expected '$'");
        }
        let len = parse_len(&header[1..]).ok_or("invalid bulk length")?;
        if len > MAX_BULK {
            return Err("invalid bulk length");
        }
        let end = body + len;
        // Refused before its bytes arrive, so they are never buffered.
        if self.size + (end + 2 - self.start) > MAX_COMMAND {
            return Err("command larger than 512 MiB");
        }
        if self.input.len() < end + 2 {
            return Ok(None);
        }
        if &self.input[end..end + 2] != b"\r\n" {
            return Err("bulk string not followed by CRLF");
        }
        let arg = self.input[body..end].to_vec();
        self.size += end + 2 - self.start;
        self.start = end + 2;
        Ok(Some(arg))
    }
}

/// The line starting at `at` without its `\r\n` (or `\n`), and where the
/// next one starts; `None` if it is not complete yet.
fn line(buf: &[u8], at: usize) -> Result<Option<(&[u8], usize)>, ProtocolError> {
    let rest = &buf[at..];
    match rest.iter().position(|&b| b == b'\n') {
        Some(newline) => {
            let text = &rest[..newline];
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            Ok(Some((text, at + newline + 1)))
        }
        None if rest.len() > MAX_LINE => Err("too big request line"),
        None => Ok(None),
    }
}

/// A non-negative decimal length.
fn parse_len(digits: &[u8]) -> Option<usize> {
    std::str::from_utf8(digits).ok()?.parse().ok()
}

// ----------------------------------------------------------- commands

impl Store {
    /// The live entry for `key`, removing it first if it has expired.
    fn live(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let expired = self
            .map
            .get(key)
            .and_then(|entry| entry.expires)
            .is_some_and(|deadline| deadline <= Instant::now());
        if expired {
            self.map.remove(key);
        }
        self.map.get_mut(key)
    }

    /// Removes `key`; returns whether it was live (an expired key counts as
    /// already gone, as in Redis).
    fn remove(&mut self, key: &[u8]) -> bool {
        self.live(key).is_some() && self.map.remove(key).is_some()
    }
}

/// Runs one command and appends its reply; returns whether the connection
/// should close after this batch of replies (QUIT).
fn execute(args: &[Vec<u8>], store: &mut Store, out: &mut Vec<u8>) -> bool {
    let name = if args[0].len() <= MAX_SHOWN {
        String::from_utf8_lossy(&args[0]).to_ascii_uppercase()
    } else {
        // No command has a name this long, so it is unknown, and it is
        // not copied: it may be MAX_BULK bytes, three times that as text.
        String::new()
    };
    let rest = &args[1..];
    let arity_ok = match name.as_str() {
        "PING" => rest.len() <= 1,
        "ECHO" | "GET" | "INCR" => rest.len() == 1,
        "SET" => rest.len() >= 2,
        "DEL" | "EXISTS" => !rest.is_empty(),
        _ => true,
    };
    if !arity_ok {
        let command = name.to_lowercase();
        write_error(
            out,
            &format!("wrong number of arguments for '{command}' command"),
        );
        return false;
    }
    match name.as_str() {
        "PING" => match rest.first() {
            Some(message) => write_bulk(out, Some(message)),
            None => out.extend_from_slice(b"+PONG\r\n"),
        },
        "ECHO" => write_bulk(out, Some(&rest[0])),
        "SET" => set(rest, store, out),
        "GET" => write_bulk(out, store.live(&rest[0]).map(|entry| &entry.value[..])),
        "DEL" => {
            let removed = rest.iter().filter(|key| store.remove(key));
            write_integer(out, removed.count() as i64);
        }
        "EXISTS" => {
            let present = rest.iter().filter(|key| store.live(key).is_some());
            write_integer(out, present.count() as i64);
        }
        "INCR" => incr(&rest[0], store, out),
        "QUIT" => {
            out.extend_from_slice(b"+OK\r\n");
            return true;
        }
        // redis-cli asks for command docs at start-up: there are none.
        "COMMAND" => out.extend_from_slice(b"*0\r\n"),
        "CONFIG" => config(rest, out),
        _ => {
            // At most MAX_SHOWN bytes of it, as Redis: the whole of a
            // MAX_BULK name, shown as U+FFFD for each byte that is not
            // UTF-8, made a reply three times the size of the command.
            let shown = &args[0][..args[0].len().min(MAX_SHOWN)];
            let shown = String::from_utf8_lossy(shown);
            write_error(out, &format!("unknown command '{shown}'"));
        }
    }
    false
}

/// `SET key value [EX seconds | PX milliseconds]`.
fn set(args: &[Vec<u8>], store: &mut Store, out: &mut Vec<u8>) {
    let mut expires = None;
    let mut options = args[2..].iter();
    while let Some(option) = options.next() {
        let unit = match option.to_ascii_uppercase().as_slice() {
            b"EX" => Duration::from_secs(1),
            b"PX" => Duration::from_millis(1),
            _ => return write_error(out, "syntax error"),
        };
        let Some(amount) = options.next() else {
            return write_error(out, "syntax error");
        };
        let Some(amount) = parse_integer(amount) else {
            return write_error(out, "value is not an integer or out of range");
        };
        let deadline = u32::try_from(amount)
            .ok()
            .filter(|&n| n > 0)
            .and_then(|n| unit.checked_mul(n))
            .and_then(|ttl| Instant::now().checked_add(ttl));
        let Some(deadline) = deadline else {
            return write_error(out, "invalid expire time in 'set' command");
        };
        expires = Some(deadline);
    }
    let entry = Entry {
        value: args[1].clone(),
        expires,
    };
    store.map.insert(args[0].clone(), entry);
    out.extend_from_slice(b"+OK\r\n");
}

/// `INCR key`: the value as a signed 64-bit decimal plus one; a missing key
/// counts as 0. Keeps the key's expiry, as Redis does.
fn incr(key: &[u8], store: &mut Store, out: &mut Vec<u8>) {
    let Some(entry) = store.live(key) else {
        let entry = Entry {
            value: b"1".to_vec(),
            expires: None,
        };
        store.map.insert(key.to_vec(), entry);
        return write_integer(out, 1);
    };
    let Some(value) = parse_integer(&entry.value) else {
        return write_error(out, "value is not an integer or out of range");
    };
    let Some(next) = value.checked_add(1) else {
        return write_error(out, "increment or decrement would overflow");
    };
    entry.value = next.to_string().into_bytes();
    write_integer(out, next);
}

/// `CONFIG GET name`: redis-benchmark asks for `save` and `appendonly`
/// at start-up (and warns when it gets no name/value pair back). Nothing
/// here persists, so the truthful answers are "" and "no".
fn config(args: &[Vec<u8>], out: &mut Vec<u8>) {
    let value: &[u8] = match args {
        [get, name] if get.eq_ignore_ascii_case(b"GET") && name.eq_ignore_ascii_case(b"save") => {
            b""
        }
        [get, name]
            if get.eq_ignore_ascii_case(b"GET") && name.eq_ignore_ascii_case(b"appendonly") =>
        {
            b"no"
        }
        [get, _] if get.eq_ignore_ascii_case(b"GET") => return out.extend_from_slice(b"*0\r\n"),
        _ => return write_error(out, "only CONFIG GET is supported"),
    };
    out.extend_from_slice(b"*2\r\n");
    write_bulk(out, Some(&args[1]));
    write_bulk(out, Some(value));
}

/// A signed 64-bit decimal, as Redis reads numbers: no spaces, no `+`.
fn parse_integer(bytes: &[u8]) -> Option<i64> {
    if bytes.first() == Some(&b'+') {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

fn write_bulk(out: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        Some(value) => {
            out.extend_from_slice(format!("${}\r\n", value.len()).as_bytes());
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        None => out.extend_from_slice(b"$-1\r\n"),
    }
}

fn write_integer(out: &mut Vec<u8>, value: i64) {
    out.extend_from_slice(format!(":{value}\r\n").as_bytes());
}

/// An error reply is one line: a CR or LF in `message` (a client's bytes,
/// quoted) would end it early, and the rest would read as another reply.
/// Each becomes a space, as Redis does.
fn write_error(out: &mut Vec<u8>, message: &str) {
    let message = message.replace(['\r', '\n'], " ");
    out.extend_from_slice(format!("-ERR {message}\r\n").as_bytes());
}
