//! An async runtime from scratch: hand-written futures, `Pin`, a parking `block_on`, an
//! executor with `spawn` and `JoinHandle`, timers, a readiness-based TCP reactor and a small
//! HTTP client on top.

pub mod util;

pub mod s01_futures;
pub mod s02_pin;
pub mod s03_block_on;
pub mod s04_raw_waker;
pub mod s05_executor;
pub mod s06_join;
pub mod s07_timers;
pub mod s08_reactor;
pub mod s09_net;
pub mod s10_priority;
pub mod s11_http;
