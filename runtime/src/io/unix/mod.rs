//! Unix-only I/O: [`AsyncFd`], readiness for any non-blocking descriptor.

mod async_fd;
mod watched_fd;

pub use async_fd::AsyncFd;
