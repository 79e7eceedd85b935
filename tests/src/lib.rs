//! Helpers shared by the integration tests in `tests/tests/`.
//!
//! The tests prove runtime behaviour end to end, so most helpers do not
//! depend on the runtime they test and are plain `std`. The few that do use
//! only eddy's public API, exactly as a test would. Each exists so that one
//! piece of test logic lives in one place.
//!
//! Plain `std`:
//!
//! * [`with_deadline`] runs a test body on its own thread and fails the test
//!   (instead of hanging CI) if the body does not finish in time. A panic in
//!   the body is re-raised unchanged, so `#[should_panic(expected = ...)]`
//!   still sees the original message.
//! * [`Signal`] is a one-shot, runtime-agnostic "it happened" flag: any
//!   thread may [`set`](Signal::set) it, and a task
//!   [`wait`](Signal::wait)s for it. It is how the tests wake a parked
//!   runtime from another thread without relying on the runtime's own
//!   channels.
//! * [`panic_message`](fn@panic_message) reads the text out of a panic payload;
//!   [`panicking_waker`](fn@panicking_waker) makes a waker that panics when woken.
//! * [`DropFlag`] and [`CountDrop`] report their own drop.
//! * [`wake_self_once`](fn@wake_self_once) yields once while staying ready: the building block
//!   of tasks that never leave the run queue; [`spin_until`](fn@spin_until) loops on such a
//!   step with a bound, the spinner of the starvation tests.
//! * [`XorShift`] is the seeded randomness of the stress tests.
//! * [`block_on_parked`](fn@block_on_parked) polls a future on a plain thread with no runtime
//!   (parking between wakes): how a socket moved off its runtime's thread
//!   is driven.
//! * [`count_polls`](fn@count_polls) counts a future's polls: how a test tells a task that
//!   waits from one that spins without measuring time; [`poll_once`](fn@poll_once)
//!   polls one once, to prove it completes at once;
//!   [`poll_at_most`](fn@poll_at_most) polls one a few times and drops it
//!   unfinished, to cancel it at a chosen point.
//! * [`child_process`] re-executes the test binary as a child that plays a
//!   role (`SIGPIPE` at its default action, a tiny descriptor table), and
//!   checks how it ended.
//!
//! On eddy's public API:
//!
//! * [`run_bounded`](fn@run_bounded) runs a future on a fresh runtime under
//!   [`with_deadline`]: the frame of most socket tests.
//! * [`wait_until`](fn@wait_until) polls a condition from inside a runtime.
//! * [`woken_within`](fn@woken_within) bounds a wait with a deadline that wins every tie,
//!   so a future that completes only because the deadline polled it (a
//!   lost wake-up) fails the test instead of passing it slowly.
//! * [`read_to_end_cancelling`](fn@read_to_end_cancelling) reads a stream
//!   to its end with every read cancelled at random, fed by
//!   [`spawn_trickle`](fn@spawn_trickle), a peer that writes in chunks of
//!   random size: the read-cancellation tests of TCP and Unix streams.
//! * [`assert_readable_woken_by`](fn@assert_readable_woken_by) sends a
//!   byte now or a little later and asserts it wakes the next `readable()`
//!   wait: the dropped-`readable` tests of TCP and Unix streams.
//! * [`tcp_echo`](fn@tcp_echo) is the connection handler of the TCP echo servers;
//!   [`tcp_pair`](fn@tcp_pair) connects a client to a listener and accepts it.
//! * [`open_descriptors`](fn@open_descriptors) counts the process's open
//!   descriptors, to prove a path leaks none;
//! * [`socket_type`](fn@socket_type) asks the kernel what kind of socket a descriptor is,
//!   to prove an `AsFd` impl lends the socket itself;
//! * [`assert_no_runtime_error`] checks the error a socket constructor
//!   returns outside any runtime.
//!
//! # Implementation
//!
//! `with_deadline` hands the body's result back over an `mpsc` channel and
//! waits with `recv_timeout`; a body that panics drops the sender, which the
//! waiting side sees as a disconnect and answers by joining the thread and
//! resuming its panic. A body that hangs is left running: the test fails
//! and the process exits at the end of the run. `Signal` is a mutex around
//! a flag and the waiter's waker; `set` takes the waker out under the lock
//! and wakes it after unlocking, so a waker that re-enters the signal
//! cannot deadlock. A child process is told its role by one environment
//! variable, [`child_process::CHILD_ROLE`], and runs only the test that
//! started it, so one name serves every test binary.

mod block_on_parked;
mod cancelled_accepts;
mod cancelled_reads;
#[cfg(unix)]
pub mod child_process;
mod count_polls;
mod deadline;
#[cfg(unix)]
mod descriptor_limit;
mod drop_probes;
mod no_runtime_error;
#[cfg(unix)]
mod open_descriptors;
mod panic_message;
mod panicking_waker;
mod poll_at_most;
mod poll_once;
mod readable_woken;
mod run_bounded;
mod signal;
#[cfg(unix)]
mod socket_type;
mod spin_until;
mod tcp_echo;
mod tcp_pair;
mod wait_until;
mod wake_self_once;
mod woken_within;
mod xorshift;

pub use block_on_parked::block_on_parked;
pub use cancelled_accepts::accept_all_cancelling;
pub use cancelled_reads::{read_to_end_cancelling, spawn_trickle};
pub use count_polls::count_polls;
pub use deadline::with_deadline;
#[cfg(unix)]
pub use descriptor_limit::{descriptor_limit, fill_descriptor_table, set_descriptor_soft_limit};
pub use drop_probes::{CountDrop, DropFlag};
pub use no_runtime_error::assert_no_runtime_error;
#[cfg(unix)]
pub use open_descriptors::open_descriptors;
pub use panic_message::panic_message;
pub use panicking_waker::panicking_waker;
pub use poll_at_most::{cancel_at_random, poll_at_most};
pub use poll_once::poll_once;
pub use readable_woken::assert_readable_woken_by;
pub use run_bounded::run_bounded;
pub use signal::{Signal, Wait};
#[cfg(unix)]
pub use socket_type::socket_type;
pub use spin_until::spin_until;
pub use tcp_echo::tcp_echo;
pub use tcp_pair::tcp_pair;
pub use wait_until::wait_until;
pub use wake_self_once::wake_self_once;
pub use woken_within::woken_within;
pub use xorshift::XorShift;
