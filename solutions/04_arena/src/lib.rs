//! An arena (bump) allocator, built stage by stage.
//!
//! Every stage is one module; later stages use the items of earlier ones.

// An arena hands out `&mut T` from `&self`: that is its whole point, and every such method
// documents why the returned references never alias.
#![allow(clippy::mut_from_ref)]

#[cfg(test)]
mod test_support;

pub mod s00_align;
pub mod s01_chunk;
pub mod s02_lifetimes;
pub mod s03_api;
pub mod s04_growth;
pub mod s05_drop;
pub mod s06_direction;
pub mod s07_break;
pub mod s08_break_tree;
