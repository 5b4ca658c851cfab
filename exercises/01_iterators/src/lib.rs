//! An iterator library in the image of `core::iter`: a `MyIterator` trait, sources, lazy
//! adapters, consumers built on `fold`, `collect` through a `FromMyIterator` trait, and `fold`
//! overrides that make adapter chains as fast as std's.

// The stubs leave parameters unused until their bodies are written.
#![allow(unused_variables, dead_code)]

#[cfg(test)]
mod test_support;

pub mod s01_trait;
pub mod s02_map_filter;
pub mod s03_fold;
pub mod s04_take_skip;
pub mod s05_chain_zip;
pub mod s06_collect;
pub mod s07_zero_cost;
