//! Helpers shared by the integration tests; each test file uses a subset.
#![allow(dead_code)]

pub(crate) mod child;
pub(crate) mod drive;
pub(crate) mod flag_waker;
pub(crate) mod net;
pub(crate) mod register;
