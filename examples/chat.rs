//! A line-based chat room: every line a client sends goes to every other
//! client, prefixed with the sender's address.
//!
//! ```sh
//! cargo run --release --example chat                      # 127.0.0.1:7880
//! cargo run --release --example chat -- --addr 0.0.0.0:7880
//! ```
//!
//! Then open two or more terminals and run `nc 127.0.0.1 7880` in each:
//! what you type in one shows up in the others. Ctrl-C stops the server.
//!
//! How it fits together: each client gets a bounded `async-channel` queue
//! of lines to send it, and the room is a map from client id to the
//! sending end of that queue. The room lives in an `Rc<RefCell<..>>`: every
//! task runs on the one runtime thread, and no borrow is held across an
//! `.await`. Each connection runs two loops at once, one reading the
//! client's lines and broadcasting them, one writing the client's queue to
//! its socket; when either ends (the client left or an I/O error) the
//! connection ends and the room says so. A client too slow to keep up is
//! put out by the room itself: its writer may be stuck for good in a write
//! to a client that stopped reading, so the connection also watches for
//! the room dropping it (a second channel, which only ever closes).
//!
//! A client that closes its sending side (`nc -N` at the end of its input)
//! has left, but may still be reading: it leaves the room at once, so
//! nothing more is queued for it, then gets what was queued before (its
//! welcome line included) within [`FLUSH`], and only then is the
//! connection closed and its leaving announced.
//!
//! Lines are text, but not every client sends UTF-8: bytes that are not
//! valid UTF-8 are replaced with U+FFFD (`�`) and the line is passed on,
//! rather than the client being disconnected for, say, a Latin-1 `é`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use async_channel::{Receiver, Sender, TrySendError};
use eddy::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use eddy::net::{TcpListener, TcpStream};
use eddy_examples::Flags;
use futures_lite::future;
use futures_lite::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

/// How many lines may wait for a slow client before it is disconnected:
/// one client that stops reading must not make the room buffer forever.
const QUEUE: usize = 256;

/// The longest line accepted, in bytes; a longer one ends the connection.
const MAX_LINE: u64 = 4096;

/// How long a client that closed its sending side has to read the lines
/// queued for it before the connection is closed anyway: out of the room,
/// it can no longer be put out for being slow, and one that never reads
/// would keep its connection forever.
const FLUSH: Duration = Duration::from_secs(10);

/// A line on its way to clients. `Rc<str>`: one allocation shared by every
/// recipient's queue.
type Line = Rc<str>;

/// A client as the room sees it.
struct Member {
    /// The client's queue of lines to send it.
    queue: Sender<Line>,
    /// Never sent on: dropping it (with the member) tells the client's
    /// connection that the room put it out, see [`put_out`].
    _membership: Sender<()>,
}

/// Everyone in the room.
#[derive(Default)]
struct Room {
    /// Each client, by client id.
    members: RefCell<HashMap<u64, Member>>,
    /// The id the next client gets.
    next_id: Cell<u64>,
}

impl Room {
    /// Adds a client and returns its id and how many others are here.
    fn join(&self, member: Member) -> (u64, usize) {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let mut members = self.members.borrow_mut();
        let others = members.len();
        members.insert(id, member);
        (id, others)
    }

    /// Removes a client and returns it, unless the room already put it
    /// out.
    fn leave(&self, id: u64) -> Option<Member> {
        self.members.borrow_mut().remove(&id)
    }

    /// Queues `line` for every client but `from`. A client whose queue is
    /// full is removed from the room, which ends its connection.
    fn broadcast(&self, from: u64, line: &str) {
        let line: Line = Rc::from(format!("{line}\n"));
        self.members.borrow_mut().retain(|&id, member| {
            let overflowed = id != from
                && matches!(
                    member.queue.try_send(line.clone()),
                    Err(TrySendError::Full(_))
                );
            !overflowed
        });
    }
}

fn main() -> io::Result<()> {
    let mut flags = Flags::from_args();
    let addr: String = flags.take("addr", "127.0.0.1:7880".to_string());
    flags.finish();
    eddy::run(serve(addr))
}

async fn serve(addr: String) -> io::Result<()> {
    let listener = TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    let interrupted = eddy_examples::ctrl_c()?;
    println!("listening on {local}");
    println!(
        "join from two terminals: nc {} {}",
        local.ip(),
        local.port()
    );
    let room = Rc::new(Room::default());

    let accepting = async {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    eddy::spawn(client(stream, peer, room.clone()));
                }
                Err(error) => eprintln!("accept failed: {error}"),
            }
        }
    };
    future::or(accepting, interrupted).await?;
    println!("chat: shutting down");
    Ok(())
}

/// Runs one client from join to leave; its errors end only this client.
async fn client(stream: TcpStream, peer: SocketAddr, room: Rc<Room>) {
    let (reader, writer) = stream.into_split();
    let (queue, lines) = async_channel::bounded(QUEUE);
    let (membership, in_room) = async_channel::bounded(1);
    let member = Member {
        queue: queue.clone(),
        _membership: membership,
    };
    let (id, others) = room.join(member);
    // Our own queue was empty a moment ago, so this cannot be full.
    let _ = queue.try_send(Rc::from(format!(
        "* welcome {peer}, {others} other(s) here\n"
    )));
    drop(queue);
    room.broadcast(id, &format!("* {peer} joined"));
    println!("{peer} joined");

    // Whichever ends first ends the connection; the others are dropped,
    // and the socket with them, even a write stuck on a client that does
    // not read. The writer ends without an error only once the client
    // has closed its side and taken every line queued before that.
    let outcome = future::or(
        future::or(
            read_then_leave(reader, id, peer, &room),
            write_lines(writer, lines, &in_room),
        ),
        put_out(&in_room),
    )
    .await;

    room.leave(id);
    room.broadcast(id, &format!("* {peer} left"));
    match outcome {
        Ok(()) => println!("{peer} left"),
        Err(error) => println!("{peer} dropped: {error}"),
    }
}

/// Runs [`read_lines`]; when the client has closed its side, takes it out
/// of the room so that its queue closes once the writer has sent what is
/// in it, and gives the writer [`FLUSH`] to do that.
async fn read_then_leave(
    reader: OwnedReadHalf,
    id: u64,
    peer: SocketAddr,
    room: &Room,
) -> io::Result<()> {
    read_lines(reader, id, peer, room).await?;
    // Dropping the member drops the queue's last sender, but its
    // membership is held until the connection ends: dropping that would
    // look to `put_out` and `write_lines` like being put out.
    let _membership = room.leave(id).map(|member| member._membership);
    eddy::time::sleep(FLUSH).await;
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        "closed its side but did not read the lines queued for it",
    ))
}

/// Broadcasts each line the client sends until it closes its side.
async fn read_lines(
    reader: OwnedReadHalf,
    id: u64,
    peer: SocketAddr,
    room: &Room,
) -> io::Result<()> {
    let mut reader = BufReader::new(reader);
    let mut line = Vec::new();
    loop {
        line.clear();
        // `take` bounds the line: without it a client that never sends a
        // newline would make `read_until` buffer without limit. Bytes, not
        // `read_line`: that fails on a line that is not UTF-8.
        let n = (&mut reader)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut line)
            .await?;
        if n == 0 {
            return Ok(());
        }
        if n as u64 > MAX_LINE {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        room.broadcast(id, &format!("{peer}: {text}"));
    }
}

/// Writes the client's queue to its socket until the socket fails or the
/// queue closes and is empty: the room dropped the sender, either putting
/// the client out or because the client left (see [`read_then_leave`]).
async fn write_lines(
    mut writer: OwnedWriteHalf,
    lines: Receiver<Line>,
    in_room: &Receiver<()>,
) -> io::Result<()> {
    while let Ok(line) = lines.recv().await {
        writer.write_all(line.as_bytes()).await?;
    }
    // A client that left keeps its membership until the connection ends;
    // one put out has lost it.
    if in_room.is_closed() {
        Err(too_slow())
    } else {
        Ok(())
    }
}

/// Completes when the room removes the client for being too slow: nothing
/// is ever sent on `in_room`, so `recv` returns only when the room drops
/// the client's [`Member`] and with it the channel's only sender.
/// `write_lines` alone would not notice: it is stuck in `write_all` when
/// the client has stopped reading.
async fn put_out(in_room: &Receiver<()>) -> io::Result<()> {
    let _ = in_room.recv().await;
    Err(too_slow())
}

/// Why a client that could not keep up was dropped.
fn too_slow() -> io::Error {
    io::Error::other("too slow: its queue overflowed")
}
