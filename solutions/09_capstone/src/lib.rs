//! # capstone: one server from the course's own parts
//!
//! A multi-threaded executor whose tasks are `MyArc`s and whose run queue is the lock-free MPSC
//! queue, built stage by stage into a small HTTP/JSON server on the course's allocator and TCP
//! reactor.

mod sync;
#[cfg(test)]
mod test_support;

pub mod s01_waker;
pub mod s02_executor;
pub mod s03_alloc;
pub mod s04_service;
