//! Fairness: yielding and self-waking tasks, and a busy `block_on` future,
//! leave room for each other, for I/O and for timers.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use eddy::task::yield_now;
use eddy::{Builder, Runtime};
use eddy_tests::{Signal, spin_until, wake_self_once, with_deadline};

use crate::{LIMIT, udp_sink_and_senders};

/// An eddy stream whose peer, on a thread of its own, writes as fast as
/// it can, so the stream is always readable; the thread ends when the
/// stream closes under one of its blocked writes.
fn flooded_stream() -> (eddy::net::TcpStream, thread::JoinHandle<()>) {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut flooder = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let flooded = eddy::net::TcpStream::from_std(listener.accept().unwrap().0).unwrap();
    let flooding = thread::spawn(move || while flooder.write_all(&[7; 64 * 1024]).is_ok() {});
    (flooded, flooding)
}

/// Asserts that `order` alternates between its two ids from start to end.
fn assert_alternates(order: &[char]) {
    for (i, pair) in order.windows(2).enumerate() {
        assert_ne!(pair[0], pair[1], "not round-robin at {i}: {order:?}");
    }
}

/// Under each of a few event intervals, spawns two tasks that each record
/// their id and then await `step()`, `rounds` times, and asserts that both
/// ran every round and took turns from start to end.
fn assert_two_tasks_interleave<Fut>(rounds: usize, step: fn() -> Fut)
where
    Fut: Future<Output = ()> + 'static,
{
    for event_interval in [1, 2, 61] {
        let rt = Builder::new()
            .event_interval(event_interval)
            .build()
            .unwrap();
        let order = rt.block_on(async {
            let order = Rc::new(RefCell::new(Vec::new()));
            let stepper = |id: char| {
                let order = Rc::clone(&order);
                eddy::spawn(async move {
                    for _ in 0..rounds {
                        order.borrow_mut().push(id);
                        step().await;
                    }
                })
            };
            let (a, b) = (stepper('a'), stepper('b'));
            a.await.unwrap();
            b.await.unwrap();
            order.take()
        });
        assert_eq!(order.len(), 2 * rounds);
        assert_alternates(&order);
    }
}

#[test]
fn two_tasks_yielding_in_a_loop_interleave_round_robin() {
    with_deadline(LIMIT, || assert_two_tasks_interleave(100, yield_now));
}

#[test]
fn two_tasks_that_are_always_ready_interleave_round_robin() {
    // Each task wakes itself before returning Pending, so it is ready again
    // at once: the shape of a task whose socket never runs dry.
    with_deadline(LIMIT, || assert_two_tasks_interleave(300, wake_self_once));
}

#[test]
fn a_task_that_is_always_ready_does_not_starve_remote_wakes_or_timers() {
    // Bounded like the yield_now test above; the spinner wakes itself
    // directly (no yield_now), so only the event interval lets the driver,
    // the remote queue and the timers in.
    const GIVE_UP_AFTER: u64 = 2_000_000;
    with_deadline(Duration::from_secs(60), || {
        let rt = Runtime::new().unwrap();
        let spinner_stopped = rt.block_on(async {
            let stop = Rc::new(Cell::new(false));
            let spinner = eddy::spawn(spin_until(Rc::clone(&stop), GIVE_UP_AFTER, wake_self_once));
            let woken = Signal::new();
            let waiter = eddy::spawn({
                let woken = woken.clone();
                async move {
                    woken.wait().await;
                    eddy::time::sleep(Duration::from_millis(5)).await;
                    stop.set(true);
                }
            });
            let other_thread = thread::spawn(move || {
                thread::sleep(Duration::from_millis(5));
                woken.set();
            });
            waiter.await.unwrap();
            other_thread.join().unwrap();
            spinner.await.unwrap()
        });
        assert!(
            spinner_stopped,
            "the always-ready task starved the wake or the timer"
        );
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no datagram sockets")]
fn a_task_whose_socket_never_blocks_does_not_starve_another_sockets_readiness() {
    // Bounded: without the cooperative budget the sender never returns
    // `Pending` once it sends, so it would give up after this many sends.
    const GIVE_UP_AFTER: u64 = 1_000_000;
    with_deadline(Duration::from_secs(120), || {
        eddy::run(async {
            let receiver = eddy::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let receiver_addr = receiver.local_addr().unwrap();
            let stop = Rc::new(Cell::new(false));
            // Parked on its socket before the sender starts.
            let receiving = eddy::spawn({
                let stop = Rc::clone(&stop);
                async move {
                    let mut buf = [0u8; 8];
                    let (len, _) = receiver.recv_from(&mut buf).await.unwrap();
                    stop.set(true);
                    buf[..len].to_vec()
                }
            });
            // Never read: a full sink drops datagrams, so a send to it
            // always succeeds at once.
            let sink = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let sink_addr = sink.local_addr().unwrap();
            let sender = eddy::spawn(async move {
                let socket = eddy::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                let mut sends = 0u64;
                while !stop.get() && sends < GIVE_UP_AFTER {
                    let _ = socket.send_to(b"x", sink_addr).await;
                    sends += 1;
                    if sends == 1_000 {
                        // Well into the loop: from here on the receive
                        // needs a driver turn that only a yield of this
                        // task can let happen.
                        peer.send_to(b"ping", receiver_addr).unwrap();
                    }
                }
                sends
            });
            assert_eq!(receiving.await.unwrap(), b"ping");
            let sends = sender.await.unwrap();
            assert!(
                sends < GIVE_UP_AFTER,
                "the always-ready sender starved the other socket"
            );
        });
    });
}

/// `yield_now` resumes its task only after the runtime has polled the I/O
/// driver once more (as documented), so readiness the kernel already holds
/// is seen after a single yield. Woken at once instead, the task ran again
/// with no driver turn in between and still found the socket not ready.
#[test]
#[cfg_attr(miri, ignore = "Miri: no poll(2)")]
fn one_yield_now_lets_the_driver_deliver_readiness_the_kernel_already_has() {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (server, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 8];
            // Nothing sent yet: read readiness, if any, is cleared here.
            let before = server.try_read(&mut buf).expect_err("nothing was sent");
            assert_eq!(before.kind(), std::io::ErrorKind::WouldBlock);

            // Sent from a plain blocking socket, and waited for with poll(2)
            // outside eddy: the byte is in the kernel's receive queue, and
            // the runtime has not turned its driver since.
            peer.write_all(b"x").unwrap();
            let mut poll_fd = libc::pollfd {
                fd: server.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: `poll_fd` is one valid `pollfd`, the count passed is
            // 1, and its descriptor is the stream's, open for the call.
            let polled = unsafe { libc::poll(&mut poll_fd, 1, -1) };
            assert_eq!(polled, 1, "poll: {}", std::io::Error::last_os_error());

            yield_now().await;
            let n = server
                .try_read(&mut buf)
                .expect("one yield_now did not let the driver deliver the readable event");
            assert_eq!(&buf[..n], b"x");
        });
    });
}

#[test]
fn yield_now_in_a_loop_does_not_starve_wakes_and_spawns_from_other_threads() {
    // Bounded: if remote work starves, the spinner gives up after this many
    // yields and the assertion fails instead of the test hanging.
    const GIVE_UP_AFTER: u64 = 2_000_000;
    with_deadline(Duration::from_secs(60), || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let spinner_stopped = rt.block_on(async move {
            let stop = Rc::new(Cell::new(false));
            let spinner = eddy::spawn(spin_until(Rc::clone(&stop), GIVE_UP_AFTER, yield_now));
            let woken = Signal::new();
            let remotely_spawned_ran = Signal::new();
            let waiter = eddy::spawn({
                let woken = woken.clone();
                let remotely_spawned_ran = remotely_spawned_ran.clone();
                async move {
                    woken.wait().await;
                    remotely_spawned_ran.wait().await;
                    stop.set(true);
                }
            });
            let other_thread = thread::spawn(move || {
                thread::sleep(Duration::from_millis(10));
                woken.set();
                handle.spawn(async move { remotely_spawned_ran.set() })
            });
            waiter.await.unwrap();
            let spinner_stopped = spinner.await.unwrap();
            other_thread.join().unwrap().await.unwrap();
            spinner_stopped
        });
        assert!(
            spinner_stopped,
            "the spinning task starved the remote wake and spawn"
        );
    });
}

#[test]
fn yield_now_outside_a_runtime_wakes_at_once() {
    struct CountWakes(AtomicUsize);
    impl std::task::Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
    let waker = std::task::Waker::from(Arc::clone(&wakes));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut yielding = std::pin::pin!(yield_now());
    assert!(yielding.as_mut().poll(&mut cx).is_pending());
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1, "woken before returning");
    assert!(yielding.as_mut().poll(&mut cx).is_ready());
}

#[test]
fn a_block_on_future_that_keeps_waking_itself_does_not_starve_timers() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let sleeper = eddy::spawn(eddy::time::sleep(Duration::from_millis(10)));
            // The main future is always ready again at once; the driver must
            // still turn every event_interval polls so the timer fires.
            while !sleeper.is_finished() {
                wake_self_once().await;
            }
        });
    });
}

/// A task that yields is resumed after the next driver turn, and the
/// runtime turns the driver at once for it even while the `block_on`
/// future keeps waking itself. Waiting for the event interval instead,
/// the yielder sat behind the busy future for up to `event_interval`
/// polls of it: with `event_interval(u32::MAX)`, for good.
#[test]
fn a_yielding_task_resumes_within_a_round_beside_a_busy_block_on_future() {
    // Polls of the busy future after which the test gives up: far more
    // than the round or two the yielder needs, far fewer than the interval.
    const GIVE_UP_AFTER: u32 = 1000;
    with_deadline(LIMIT, || {
        let rt = Builder::new().event_interval(u32::MAX).build().unwrap();
        rt.block_on(async {
            let resumed = Rc::new(Cell::new(false));
            let yielder = eddy::spawn({
                let resumed = Rc::clone(&resumed);
                async move {
                    yield_now().await;
                    resumed.set(true);
                }
            });
            let mut polls = 0;
            while !resumed.get() && polls < GIVE_UP_AFTER {
                polls += 1;
                wake_self_once().await;
            }
            assert!(
                resumed.get(),
                "the yielding task was not resumed in {polls} polls of the block_on future"
            );
            yielder.await.unwrap();
        });
    });
}

#[test]
fn a_task_ping_ponging_with_the_block_on_future_does_not_starve_timers() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let sleeper = eddy::spawn(eddy::time::sleep(Duration::from_millis(10)));
            // A task that wakes itself forever, alongside a main future that
            // does the same: neither yields to the driver on its own.
            let spinner = eddy::spawn(async {
                loop {
                    wake_self_once().await;
                }
            });
            while !sleeper.is_finished() {
                wake_self_once().await;
            }
            spinner.abort();
        });
    });
}

/// Two futures joined in one task (a proxy's two directions, as
/// `examples/proxy.rs` joins them), the first a loop of reads on a stream
/// whose peer never stops sending: every poll it reads until the task's
/// budget is spent and yields. The second's read of a stream with data
/// waiting, and then its receive of a datagram waiting, still complete
/// while the flood goes on. Before, they came second at every poll, found
/// the budget spent, and yielded: they starved until the first future
/// ended.
#[test]
#[cfg_attr(miri, ignore = "Miri: no TCP")]
fn a_read_joined_after_an_always_ready_read_loop_still_completes() {
    use std::io::Write;
    // Bounded: far more reads than the flooded stream needs to run out
    // of budget many times over; if the other read starves, the loop
    // gives up after this many and the assertion fails.
    const GIVE_UP_AFTER: u64 = 2_000_000;
    with_deadline(Duration::from_secs(120), || {
        eddy::run(async {
            let (mut flooded, flooding) = flooded_stream();
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let mut sender = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let mut quiet = eddy::net::TcpStream::from_std(listener.accept().unwrap().0).unwrap();
            sender.write_all(b"ping").unwrap();
            let receiver = eddy::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let datagram_sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            datagram_sender
                .send_to(b"pong", receiver.local_addr().unwrap())
                .unwrap();
            // The flood's first bytes are in before the join starts.
            flooded.read_exact(&mut [0; 1]).await.unwrap();

            let other_read = Cell::new(false);
            let reading_the_flood = async {
                // A byte at a time: the sender stays far ahead.
                let mut buf = [0u8; 1];
                let mut reads = 0u64;
                while !other_read.get() && reads < GIVE_UP_AFTER {
                    assert_ne!(flooded.read(&mut buf).await.unwrap(), 0, "the flood ended");
                    reads += 1;
                }
                reads
            };
            // A stream read (`poll_read`), then a datagram receive
            // (`recv_from`, which waits through `async_io`).
            let reading_the_others = async {
                let mut buf = [0u8; 4];
                quiet.read_exact(&mut buf).await.unwrap();
                let mut datagram = [0u8; 4];
                let (len, _) = receiver.recv_from(&mut datagram).await.unwrap();
                other_read.set(true);
                (buf, datagram[..len].to_vec())
            };
            let (reads, (got, datagram)) =
                futures_util::future::join(reading_the_flood, reading_the_others).await;
            assert_eq!(&got, b"ping");
            assert_eq!(datagram, b"pong");
            assert!(
                reads < GIVE_UP_AFTER,
                "{reads} reads of the flood in the same task starved the other reads"
            );
            drop(flooded);
            flooding.join().unwrap();
        });
    });
}

/// A loop that races sends on many sockets, first ready wins
/// (`select_all`, recreated each round, as a fan-out writer might), on UDP
/// sockets whose sends never block: the task still yields whenever its
/// budget runs out, so a task that becomes ready after the loop's first
/// yield still runs. Before, the per-socket "yielded once" marks of
/// finding 61 were set and used up within the same poll: each round set
/// the mark of every socket before the first marked one and cleared that
/// one (a binary counter counting down), so with 40 sockets the loop went
/// on for 2^40 sends between two yields.
#[test]
#[cfg_attr(miri, ignore = "Miri: no datagram sockets")]
fn a_loop_racing_sends_on_many_sockets_still_yields() {
    use futures_util::future::select_all;
    // Far more sends than the loop needs to run out of budget and yield a
    // few times; if it does not yield, it gives up after this many and the
    // assertion fails.
    const GIVE_UP_AFTER: u64 = 1_000_000;
    const SOCKETS: usize = 40;
    with_deadline(Duration::from_secs(120), || {
        eddy::run(async {
            let (sink, senders) = udp_sink_and_senders(SOCKETS).await;
            let sink_addr = sink.local_addr().unwrap();
            let other_ran = Rc::new(Cell::new(false));
            let racing = eddy::spawn({
                let other_ran = Rc::clone(&other_ran);
                async move {
                    let mut sends = 0u64;
                    while !other_ran.get() && sends < GIVE_UP_AFTER {
                        let racing = senders
                            .iter()
                            .map(|socket| Box::pin(socket.send_to(b"x", sink_addr)));
                        let (sent, _, _) = select_all(racing).await;
                        assert_eq!(sent.unwrap(), 1);
                        sends += 1;
                    }
                    sends
                }
            });
            // Runs once the racing loop has yielded a few times.
            let other = eddy::spawn({
                let other_ran = Rc::clone(&other_ran);
                async move {
                    for _ in 0..3 {
                        yield_now().await;
                    }
                    other_ran.set(true);
                }
            });
            let sends = racing.await.unwrap();
            other.await.unwrap();
            assert!(
                sends < GIVE_UP_AFTER,
                "{sends} sends racing on {SOCKETS} sockets never let the other task run"
            );
            drop(sink);
        });
    });
}

/// As `a_read_joined_after_an_always_ready_read_loop_still_completes`,
/// for the other kinds of socket operation: a TCP `accept`, a Unix
/// datagram receive, an `AsyncFd` read (`read_with`, through `async_io`),
/// an `AsyncFd` readiness poll and read (`poll_read_with`) and a write to
/// a stream with room, each joined after a read loop on a flooded stream,
/// still complete while the flood goes on.
#[test]
#[cfg_attr(miri, ignore = "Miri: no TCP")]
fn every_kind_of_operation_joined_after_an_always_ready_read_loop_still_completes() {
    use std::io::{Read, Write};
    use std::os::unix::net::{UnixDatagram, UnixStream};

    use eddy::io::unix::AsyncFd;
    const GIVE_UP_AFTER: u64 = 2_000_000;
    with_deadline(Duration::from_secs(120), || {
        eddy::run(async {
            let (mut flooded, flooding) = flooded_stream();
            flooded.read_exact(&mut [0; 1]).await.unwrap();

            // A connection waiting to be accepted.
            let accepting = eddy::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let _client = std::net::TcpStream::connect(accepting.local_addr().unwrap()).unwrap();
            // A Unix datagram waiting.
            let (datagram_sender, datagram_receiver) = UnixDatagram::pair().unwrap();
            let datagram_receiver = eddy::net::UnixDatagram::from_std(datagram_receiver).unwrap();
            datagram_sender.send(b"gram").unwrap();
            // Bytes waiting on a descriptor behind `AsyncFd`, read twice.
            let (mut fd_writer, fd_reader) = UnixStream::pair().unwrap();
            fd_reader.set_nonblocking(true).unwrap();
            let fd_reader = AsyncFd::new(fd_reader).unwrap();
            fd_writer.write_all(b"ab").unwrap();
            // A stream with room to write; its peer reads the end.
            let (mut peer, mut writable) = eddy::net::UnixStream::pair().unwrap();

            let others_done = Cell::new(false);
            let reading_the_flood = async {
                let mut buf = [0u8; 1];
                let mut reads = 0u64;
                while !others_done.get() && reads < GIVE_UP_AFTER {
                    assert_ne!(flooded.read(&mut buf).await.unwrap(), 0, "the flood ended");
                    reads += 1;
                }
                reads
            };
            let the_others = async {
                let (_accepted, _) = accepting.accept().await.unwrap();
                let mut gram = [0u8; 8];
                let (len, _) = datagram_receiver.recv_from(&mut gram).await.unwrap();
                assert_eq!(&gram[..len], b"gram");
                let mut one = [0u8; 1];
                fd_reader
                    .read_with(|mut stream| stream.read(&mut one))
                    .await
                    .unwrap();
                assert_eq!(&one, b"a");
                std::future::poll_fn(|cx| {
                    fd_reader.poll_read_with(cx, |mut stream| stream.read(&mut one))
                })
                .await
                .unwrap();
                assert_eq!(&one, b"b");
                writable.write_all(b"reply").await.unwrap();
                others_done.set(true);
            };
            let (reads, ()) = futures_util::future::join(reading_the_flood, the_others).await;
            assert!(
                reads < GIVE_UP_AFTER,
                "{reads} reads of the flood in the same task starved the other operations"
            );
            drop(flooded);
            flooding.join().unwrap();
            let mut reply = [0u8; 5];
            peer.read_exact(&mut reply).await.unwrap();
            assert_eq!(&reply, b"reply");
        });
    });
}

/// As `a_read_joined_after_an_always_ready_read_loop_still_completes`, in
/// a task polled once every 65,536 polls: 65,535 other tasks stay in the
/// run queue (each wakes itself and yields), so each of its polls comes
/// exactly one wrap of the runtime's `u16` poll count after the last. Its
/// read of the quiet stream, refused for want of budget, must still go
/// ahead at a later poll. Before, the mark of the refusal (the poll count)
/// looked, at every later poll, like one made in the running poll: the
/// read was refused again and again and starved, although the code said
/// a wrap costs one refusal more.
#[test]
#[cfg_attr(miri, ignore = "Miri: no TCP")]
fn a_read_joined_after_a_read_loop_completes_in_a_task_polled_every_65536th_poll() {
    use std::io::Write;
    // The joining task and the others: one wrap of a `u16` count per round.
    const TASKS: usize = 1 << 16;
    // With a budget of 4, each poll of the joining task reads 4 bytes of
    // the flood: this many reads is 50 rounds of every task, where the
    // quiet read needs 2.
    const GIVE_UP_AFTER: u64 = 200;
    with_deadline(Duration::from_secs(300), || {
        let rt = Builder::new().budget(4).build().unwrap();
        rt.block_on(async {
            let (mut flooded, flooding) = flooded_stream();
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let mut sender = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let mut quiet = eddy::net::TcpStream::from_std(listener.accept().unwrap().0).unwrap();
            sender.write_all(b"ping").unwrap();
            flooded.read_exact(&mut [0; 1]).await.unwrap();

            let stop = Rc::new(Cell::new(false));
            let spinners: Vec<_> = (1..TASKS)
                .map(|_| eddy::spawn(spin_until(Rc::clone(&stop), u64::MAX, wake_self_once)))
                .collect();
            let joining = eddy::spawn({
                let stop = Rc::clone(&stop);
                async move {
                    let other_read = Cell::new(false);
                    let reading_the_flood = async {
                        let mut buf = [0u8; 1];
                        let mut reads = 0u64;
                        while !other_read.get() && reads < GIVE_UP_AFTER {
                            assert_ne!(flooded.read(&mut buf).await.unwrap(), 0, "the flood ended");
                            reads += 1;
                        }
                        reads
                    };
                    let reading_the_quiet_one = async {
                        let mut buf = [0u8; 4];
                        quiet.read_exact(&mut buf).await.unwrap();
                        other_read.set(true);
                        buf
                    };
                    let (reads, got) =
                        futures_util::future::join(reading_the_flood, reading_the_quiet_one).await;
                    stop.set(true);
                    (reads, got, flooded)
                }
            });
            let (reads, got, flooded) = joining.await.unwrap();
            for spinner in spinners {
                assert!(spinner.await.unwrap());
            }
            assert_eq!(&got, b"ping");
            assert!(
                reads < GIVE_UP_AFTER,
                "{reads} reads of the flood in a task polled every 65536th poll \
                 starved the other read"
            );
            drop(flooded);
            flooding.join().unwrap();
        });
    });
}

/// As `a_read_joined_after_an_always_ready_read_loop_still_completes`,
/// for a send on a UDP socket another task sends on too: that task
/// forwards a flooded stream to the shared socket (a tunnel's
/// connections sharing one datagram socket), and the send joined after
/// the read loop must still complete while both floods go on. Before, the
/// forwarding task's send, which found its own budget spent, went ahead on
/// the mark the joined send had left and cleared it, without a refusal of
/// its own: the joined send found no mark at its next poll, was refused
/// again, and starved.
#[test]
#[cfg_attr(miri, ignore = "Miri: no TCP")]
fn a_send_joined_after_a_read_loop_completes_beside_a_task_sending_on_the_same_socket() {
    // Far more reads than the flooded stream needs to run out of budget
    // many times over; if the send starves, the loop gives up.
    const GIVE_UP_AFTER: u64 = 1_000_000;
    const DATAGRAMS: usize = 10;
    with_deadline(Duration::from_secs(120), || {
        eddy::run(async {
            let (mut flooded, flooding) = flooded_stream();
            let (mut forwarded, forwarding_flood) = flooded_stream();
            flooded.read_exact(&mut [0; 1]).await.unwrap();
            forwarded.read_exact(&mut [0; 1]).await.unwrap();
            // Never read: loopback drops what overflows its buffer, and
            // the sends still succeed.
            let sink = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let sink_addr = sink.local_addr().unwrap();
            let shared = Rc::new(eddy::net::UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let sent = Rc::new(Cell::new(false));
            let forwarding = eddy::spawn({
                let shared = Rc::clone(&shared);
                let sent = Rc::clone(&sent);
                async move {
                    let mut forwarded_bytes = 0u64;
                    while !sent.get() {
                        let mut byte = [0u8; 1];
                        assert_eq!(forwarded.read(&mut byte).await.unwrap(), 1);
                        shared.send_to(&byte, sink_addr).await.unwrap();
                        forwarded_bytes += 1;
                    }
                    (forwarded_bytes, forwarded)
                }
            });
            let joining = eddy::spawn({
                let sent = Rc::clone(&sent);
                async move {
                    let reading_the_flood = async {
                        let mut buf = [0u8; 1];
                        let mut reads = 0u64;
                        while !sent.get() && reads < GIVE_UP_AFTER {
                            assert_ne!(flooded.read(&mut buf).await.unwrap(), 0, "the flood ended");
                            reads += 1;
                        }
                        reads
                    };
                    // A few datagrams, one after another.
                    let sending = async {
                        let mut len = 0;
                        for _ in 0..DATAGRAMS {
                            len += shared.send_to(b"hello", sink_addr).await.unwrap();
                        }
                        sent.set(true);
                        len
                    };
                    let (reads, len) = futures_util::future::join(reading_the_flood, sending).await;
                    sent.set(true);
                    (reads, len, flooded)
                }
            });
            let (reads, len, flooded) = joining.await.unwrap();
            let (forwarded_bytes, forwarded) = forwarding.await.unwrap();
            assert_eq!(len, 5 * DATAGRAMS);
            assert!(forwarded_bytes > 0, "the forwarding task never ran");
            assert!(
                reads < GIVE_UP_AFTER,
                "{reads} reads of the flood in the same task starved the send, \
                 beside {forwarded_bytes} sends of another task on its socket"
            );
            drop((flooded, forwarded, sink));
            flooding.join().unwrap();
            forwarding_flood.join().unwrap();
        });
    });
}

/// A send joined after a loop of sends on the same UDP socket (a stream
/// of datagrams and a control message beside it, one task, one socket)
/// still completes while the loop goes on. The loop's sends never block,
/// so it spends the whole budget at every poll, and its next send finds
/// the budget spent first, before the joined one. Before, that send took
/// the socket direction's one pass of the poll (finding 61's mark, one a
/// poll since finding 62), its next send was refused and marked the poll,
/// and the joined send found the running poll's mark and was refused:
/// the same at every poll, so it starved for as long as the loop went on.
/// Then the same with `writable` waits in place of the sends.
#[test]
#[cfg_attr(miri, ignore = "Miri: no datagram sockets")]
fn a_send_joined_after_a_send_loop_on_the_same_socket_still_completes() {
    // Far more sends than the loop needs to run out of budget many times
    // over; if the joined send starves, the loop gives up after this many.
    const GIVE_UP_AFTER: u64 = 1_000_000;
    with_deadline(Duration::from_secs(120), || {
        eddy::run(async {
            let (sink, mut senders) = udp_sink_and_senders(1).await;
            let sink_addr = sink.local_addr().unwrap();
            let socket = senders.pop().unwrap();
            let sent = Cell::new(false);
            let streaming = async {
                let mut sends = 0u64;
                while !sent.get() && sends < GIVE_UP_AFTER {
                    assert_eq!(socket.send_to(b"data", sink_addr).await.unwrap(), 4);
                    sends += 1;
                }
                sends
            };
            let controlling = async {
                let len = socket.send_to(b"control", sink_addr).await.unwrap();
                sent.set(true);
                len
            };
            let (sends, len) = futures_util::future::join(streaming, controlling).await;
            assert_eq!(len, 7);
            assert!(
                sends < GIVE_UP_AFTER,
                "{sends} sends of the loop starved the send joined after it on the same socket"
            );
            // The same with readiness waits: a loop of `writable` and
            // `try_send_to`, and a `writable` joined after it.
            let ready = Cell::new(false);
            let streaming = async {
                let mut sends = 0u64;
                while !ready.get() && sends < GIVE_UP_AFTER {
                    socket.writable().await.unwrap();
                    assert_eq!(socket.try_send_to(b"data", sink_addr).unwrap(), 4);
                    sends += 1;
                }
                sends
            };
            let waiting = async {
                socket.writable().await.unwrap();
                ready.set(true);
            };
            let (sends, ()) = futures_util::future::join(streaming, waiting).await;
            assert!(
                sends < GIVE_UP_AFTER,
                "{sends} sends of the loop starved the `writable` joined after it on the same socket"
            );
            drop(sink);
        });
    });
}

/// As `a_read_joined_after_an_always_ready_read_loop_still_completes`,
/// for operations on nothing, which complete at once with `Ok(0)` but
/// still spend a unit: a read of nothing (TCP and Unix streams), a peek
/// of nothing, and a write of nothing into a stream whose send buffer is
/// full, each joined after a read loop on a flooded stream, still
/// complete while the flood goes on. Before, they found the budget spent
/// at every poll and yielded, with no mark to let them through at the
/// next (`coop::poll_nothing` checked the budget only): they starved for
/// as long as the flood lasted, although `Builder::budget` says an
/// operation refused once goes ahead at its next refusal.
#[test]
#[cfg_attr(miri, ignore = "Miri: no TCP")]
fn reads_writes_and_peeks_of_nothing_joined_after_an_always_ready_read_loop_still_complete() {
    const GIVE_UP_AFTER: u64 = 2_000_000;
    with_deadline(Duration::from_secs(120), || {
        eddy::run(async {
            let (mut flooded, flooding) = flooded_stream();
            flooded.read_exact(&mut [0; 1]).await.unwrap();
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let _quiet_peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let mut quiet = eddy::net::TcpStream::from_std(listener.accept().unwrap().0).unwrap();
            let (_unix_peer, mut unix) = eddy::net::UnixStream::pair().unwrap();
            // A stream whose peer never reads, filled until a write would
            // block (a Unix stream: it stays full, where TCP's window
            // opening again would make it writable).
            let (_full_peer, mut full) = eddy::net::UnixStream::pair().unwrap();
            while full.try_write(&[1; 64 * 1024]).is_ok() {}
            // The driver's first event for the new stream says writable;
            // once it is in, a refused write clears that for good.
            yield_now().await;
            yield_now().await;
            while full.try_write(&[1; 64 * 1024]).is_ok() {}
            assert_eq!(
                full.try_write(&[1]).unwrap_err().kind(),
                std::io::ErrorKind::WouldBlock
            );

            let others_done = Cell::new(false);
            let reads = Cell::new(0u64);
            let reading_the_flood = async {
                let mut buf = [0u8; 1];
                while !others_done.get() && reads.get() < GIVE_UP_AFTER {
                    assert_ne!(flooded.read(&mut buf).await.unwrap(), 0, "the flood ended");
                    reads.set(reads.get() + 1);
                }
            };
            // Each operation, with the flood's reads when it completed.
            let done = Cell::new(Vec::new());
            let the_others = async {
                let record = |what: &'static str| {
                    let mut list = done.take();
                    list.push((what, reads.get()));
                    done.set(list);
                };
                assert_eq!(quiet.read(&mut []).await.unwrap(), 0);
                record("a TCP read of nothing");
                assert_eq!(quiet.peek(&mut []).await.unwrap(), 0);
                record("a peek of nothing");
                assert_eq!(unix.read(&mut []).await.unwrap(), 0);
                record("a Unix read of nothing");
                assert_eq!(full.write(&[]).await.unwrap(), 0);
                record("a write of nothing into a full stream");
                let nothing = [std::io::IoSlice::new(&[])];
                assert_eq!(
                    futures_util::AsyncWriteExt::write_vectored(&mut full, &nothing)
                        .await
                        .unwrap(),
                    0
                );
                record("a vectored write of nothing into a full stream");
                others_done.set(true);
            };
            futures_util::future::join(reading_the_flood, the_others).await;
            let done = done.take();
            assert!(
                done.iter().all(|&(_, reads)| reads < GIVE_UP_AFTER),
                "{GIVE_UP_AFTER} reads of the flood in the same task starved an operation on \
                 nothing joined after it (each with the reads before it completed: {done:?})"
            );
            drop(flooded);
            flooding.join().unwrap();
        });
    });
}
