//! # mpsc: a lock-free multi-producer, single-consumer queue
//!
//! From a `Mutex<VecDeque<T>>` channel to a lock-free SPSC ring buffer and an MPSC queue of
//! blocks of slots, with memory orderings justified and checked by loom and Miri.

// The stubs leave parameters and helpers unused until they are filled in.
#![allow(unused_variables, dead_code, unused_imports)]

mod sync;
#[cfg(test)]
mod test_support;

pub mod s01_channel;
pub mod s02_contention;
pub mod s03_relaxed;
pub mod s04_ordering;
pub mod s05_spsc;
pub mod s06_queue;
pub mod s07_blocking;
pub mod s08_aba;
pub mod s09_epoch;
