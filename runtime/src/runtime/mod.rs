//! The runtime: its owner type, handle, builder, and the loop behind them.

mod builder;
mod config;
pub(crate) mod context;
mod core;
mod handle;
mod main_waker;
mod remote_queue;
#[allow(clippy::module_inception)]
mod runtime;
mod shared;

pub use builder::Builder;
pub(crate) use config::Config;
pub(crate) use core::Core;
pub use handle::Handle;
pub(crate) use main_waker::MainWaker;
pub(crate) use remote_queue::RemoteQueue;
pub use runtime::Runtime;
pub(crate) use shared::Shared;
