//! `chat`: lines fanned out to the other clients, leaves announced, and
//! clients that send too much, read too little, half-close or send bytes
//! that are not UTF-8.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use crate::{Example, connect};

/// A chat client: a line reader over the socket.
#[derive(Debug)]
struct ChatClient {
    /// Lines from the server.
    reader: BufReader<TcpStream>,
    /// The same socket, for writing.
    writer: TcpStream,
    /// The address the server sees for us (the prefix of our lines).
    name: String,
    /// The server's first line to us: `* welcome NAME, N other(s) here`.
    welcome: String,
}

impl ChatClient {
    fn join(addr: SocketAddr) -> ChatClient {
        let stream = connect(addr);
        let name = stream.local_addr().unwrap().to_string();
        let mut client = ChatClient {
            writer: stream.try_clone().unwrap(),
            reader: BufReader::new(stream),
            name,
            welcome: String::new(),
        };
        client.welcome = client.line();
        assert!(client.welcome.starts_with("* welcome"), "{client:?}");
        client
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("read a chat line");
        line
    }

    /// The next line that is not a join/leave notice.
    fn message(&mut self) -> String {
        loop {
            let line = self.line();
            assert!(!line.is_empty(), "server closed the connection");
            if !line.starts_with("* ") {
                return line;
            }
        }
    }

    fn say(&mut self, text: &str) {
        self.writer
            .write_all(format!("{text}\n").as_bytes())
            .unwrap();
    }
}

#[test]
fn chat_broadcasts_a_line_to_the_other_client_but_not_back_to_the_sender() {
    let (_server, addr) = Example::serve("chat", &[]);
    let mut alice = ChatClient::join(addr);
    let mut bob = ChatClient::join(addr);

    bob.say("hello from bob");
    assert_eq!(alice.message(), format!("{}: hello from bob\n", bob.name));

    // Bob's queue holds, in order, whatever was broadcast after he joined.
    // If his own line had been echoed to him, it would come before this.
    alice.say("hi bob");
    assert_eq!(bob.message(), format!("{}: hi bob\n", alice.name));
}

#[test]
fn chat_tells_the_room_when_a_client_leaves() {
    let (_server, addr) = Example::serve("chat", &[]);
    let mut alice = ChatClient::join(addr);
    let bob = ChatClient::join(addr);
    let bob_name = bob.name.clone();
    assert_eq!(alice.line(), format!("* {bob_name} joined\n"));
    drop(bob);
    assert_eq!(alice.line(), format!("* {bob_name} left\n"));
}

#[test]
fn chat_drops_a_client_that_sends_an_overlong_line_and_keeps_the_room_open() {
    let (_server, addr) = Example::serve("chat", &[]);
    let mut alice = ChatClient::join(addr);
    let mut mallory = ChatClient::join(addr);
    let mallory_name = mallory.name.clone();
    assert_eq!(alice.line(), format!("* {mallory_name} joined\n"));
    // A 64 KiB "line" with no newline: more than the server buffers.
    mallory.say(&"x".repeat(64 * 1024));
    // The server ends that connection (read returns EOF or a reset)...
    let mut rest = String::new();
    let ended = mallory.reader.read_line(&mut rest).map(|n| n == 0);
    assert!(
        ended.unwrap_or(true),
        "the server kept an overlong line: {rest:?}"
    );
    // ...tells the room, broadcasts nothing of it, and still serves others.
    assert_eq!(alice.line(), format!("* {mallory_name} left\n"));
    let mut bob = ChatClient::join(addr);
    bob.say("still here");
    assert_eq!(alice.message(), format!("{}: still here\n", bob.name));
}

#[test]
fn chat_disconnects_a_client_that_stops_reading_once_its_queue_overflows() {
    let (mut server, addr) = Example::serve("chat", &[]);
    let mut talker = ChatClient::join(addr);
    // Reads its welcome line and nothing after it.
    let mut sleeper = ChatClient::join(addr);
    let sleeper_name = sleeper.name.clone();
    assert_eq!(talker.line(), format!("* {sleeper_name} joined\n"));

    // Talk from another thread until the room gives up on the sleeper:
    // first the socket buffers between it and the server fill, then its
    // queue of lines overflows. 256 MiB is far more than that takes.
    let stop = Arc::new(AtomicBool::new(false));
    let talking = {
        let stop = stop.clone();
        let mut writer = talker.writer.try_clone().unwrap();
        thread::spawn(move || {
            let line = format!("{}\n", "z".repeat(4000));
            let mut sent = 0;
            while !stop.load(Ordering::Relaxed) && sent < 256 << 20 {
                if writer.write_all(line.as_bytes()).is_err() {
                    break;
                }
                sent += line.len();
            }
        })
    };
    // The room says the sleeper left (the talker hears nothing else: its
    // own lines are not sent back to it), and the server says why.
    assert_eq!(talker.line(), format!("* {sleeper_name} left\n"));
    stop.store(true, Ordering::Relaxed);
    talking.join().unwrap();
    let dropped = server.line_starting(&format!("{sleeper_name} dropped"));
    assert!(dropped.contains("too slow"), "{dropped:?}");

    // The sleeper's connection really ended: after what was already on
    // its way, it reads end-of-stream instead of waiting forever.
    let drained = io::copy(&mut sleeper.reader, &mut io::sink());
    assert!(drained.is_ok(), "{drained:?}");
    // And a newcomer finds only the talker in the room.
    let newcomer = ChatClient::join(addr);
    assert_eq!(
        newcomer.welcome,
        format!("* welcome {}, 1 other(s) here\n", newcomer.name)
    );
}

#[test]
fn chat_flushes_lines_queued_for_a_client_that_half_closes_before_closing_it() {
    let (_server, addr) = Example::serve("chat", &[]);
    let mut alice = ChatClient::join(addr);
    let mut bob = ChatClient::join(addr);
    let mut carol = ChatClient::join(addr);
    assert_eq!(alice.line(), format!("* {} joined\n", bob.name));
    assert_eq!(alice.line(), format!("* {} joined\n", carol.name));

    // Once Carol has Alice's line, the same broadcast has queued it for
    // Bob, who has read nothing since his welcome.
    alice.say("one");
    assert_eq!(carol.message(), format!("{}: one\n", alice.name));
    // Bob says goodbye and half-closes, the way `nc -N` does at the end of
    // its input. He still gets everything said to him before he left, and
    // then end-of-stream.
    bob.say("bye");
    bob.writer.shutdown(Shutdown::Write).unwrap();
    let mut rest = String::new();
    bob.reader
        .read_to_string(&mut rest)
        .expect("read to end-of-stream");
    assert_eq!(
        rest,
        format!("* {} joined\n{}: one\n", carol.name, alice.name)
    );
    assert_eq!(carol.message(), format!("{}: bye\n", bob.name));
    assert_eq!(carol.line(), format!("* {} left\n", bob.name));

    // Dave half-closes before reading anything: by the time the server
    // reads his line and his end-of-stream, his own welcome line may not
    // have been written yet. It must still reach him.
    for _ in 0..3 {
        let mut dave = connect(addr);
        let dave_name = dave.local_addr().unwrap().to_string();
        dave.write_all(b"hello and goodbye\n").unwrap();
        dave.shutdown(Shutdown::Write).unwrap();
        let mut heard = String::new();
        dave.read_to_string(&mut heard)
            .expect("read to end-of-stream");
        assert_eq!(
            heard,
            format!("* welcome {dave_name}, 2 other(s) here\n"),
            "what Dave heard"
        );
        assert_eq!(carol.line(), format!("* {dave_name} joined\n"));
        assert_eq!(carol.message(), format!("{dave_name}: hello and goodbye\n"));
        assert_eq!(carol.line(), format!("* {dave_name} left\n"));
    }
}

#[test]
fn chat_replaces_invalid_utf8_in_a_line_and_keeps_the_sender_connected() {
    let (_server, addr) = Example::serve("chat", &[]);
    let mut alice = ChatClient::join(addr);
    let mut bob = ChatClient::join(addr);
    // Latin-1 "café": 0xE9 on its own is not UTF-8.
    bob.writer.write_all(b"caf\xe9 au lait\n").unwrap();
    assert_eq!(
        alice.message(),
        format!("{}: caf\u{FFFD} au lait\n", bob.name)
    );
    bob.say("still here");
    assert_eq!(alice.message(), format!("{}: still here\n", bob.name));
}
