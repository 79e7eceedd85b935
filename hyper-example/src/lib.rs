//! hyper on eddy: the adapters that let [hyper] 1.x, the ecosystem's HTTP
//! library, run on eddy instead of tokio, and a "Hello, world!" server
//! built with them (the `hyper_hello` example).
//!
//! ```sh
//! cargo run --release -p eddy-hyper-example --example hyper_hello
//! curl -v http://127.0.0.1:3000/
//! wrk -t1 -c50 -d5s http://127.0.0.1:3000/
//! ```
//!
//! hyper 1.x is runtime-agnostic by design: it does no I/O, spawning or
//! timing itself but asks for three small traits, and anything that
//! implements them can carry it. This crate implements each on eddy:
//!
//! | hyper trait                          | adapter          | eddy underneath                   |
//! |--------------------------------------|------------------|-----------------------------------|
//! | `rt::Read` + `rt::Write` (the bytes) | [`EddyIo`]       | `futures-io` on `net::TcpStream`  |
//! | `rt::Executor` (background tasks)    | [`EddyExecutor`] | [`eddy::spawn`]                   |
//! | `rt::Timer` + `rt::Sleep` (timeouts) | [`EddyTimer`], [`EddySleep`] | [`eddy::time::sleep`], `Sleep::reset` |
//!
//! # How data flows
//!
//! [`serve`] accepts a connection on an eddy `TcpListener`, wraps the
//! stream in [`EddyIo`] and hands it to hyper's
//! `http1::Builder::serve_connection` together with the service
//! ([`hello`](fn@hello)). The future hyper returns *is* the connection: spawned as an
//! eddy task, each poll lets hyper read through `EddyIo::poll_read`
//! (an eddy socket read, which registers the task's waker with eddy's
//! reactor when the socket has nothing), parse a request, call the
//! service, and write the response through `EddyIo::poll_write_vectored`.
//! Between requests hyper arms its header read timeout through
//! [`EddyTimer`], an entry in eddy's timers that wakes the same task.
//!
//! # Implementation
//!
//! Why a separate package: hyper and its dependencies (`http`, `httparse`,
//! `bytes`, and tokio's `sync` module, which hyper uses for its internal
//! channels whatever the runtime) take a while to compile. Kept out of
//! `eddy-examples`, they never slow `cargo build --release --example echo`.
//!
//! The one adapter with a subtlety is the read side: hyper's buffer may be
//! uninitialized memory, and reading into it through a `&mut [u8]` would be
//! undefined behaviour, so [`EddyIo`] zero-fills (a bounded part of) it
//! first; see its docs. The timer's `reset` downcasts hyper's boxed sleep
//! back to an [`EddySleep`] to move its deadline in place instead of
//! allocating a new one. The executor is `eddy::spawn`, which, since eddy is
//! single-threaded, even accepts futures that are not `Send`.
//!
//! | file          | role                                                     |
//! |---------------|----------------------------------------------------------|
//! | `io.rs`       | [`EddyIo`]: hyper's `Read`/`Write` over a futures-io stream |
//! | `executor.rs` | [`EddyExecutor`]: hyper's `Executor` as `eddy::spawn`    |
//! | `timer.rs`    | [`EddyTimer`]: hyper's `Timer` on eddy's timers          |
//! | `sleep.rs`    | [`EddySleep`]: an eddy `Sleep` that hyper can box        |
//! | `hello.rs`    | [`hello`](fn@hello), [`http1_builder`], [`serve`]: the server      |
//!
//! [hyper]: https://hyper.rs

mod executor;
mod hello;
mod io;
mod sleep;
mod timer;

pub use executor::EddyExecutor;
pub use hello::{HELLO, hello, http1_builder, serve};
pub use io::EddyIo;
pub use sleep::EddySleep;
pub use timer::EddyTimer;
