//! A malloc-like allocator: layout arithmetic, a free list stored in the free memory, a heap
//! with splitting and coalescing, fit strategies, `realloc` (and the bug it invites, written
//! on purpose), a `GlobalAlloc`, and size classes.

#[cfg(test)]
mod test_support;

pub mod s01_layout;
pub mod s02_free_list;
pub mod s03_heap;
pub mod s04_strategies;
pub mod s05_realloc;
pub mod s06_realloc_break;
pub mod s07_global;
pub mod s08_size_classes;
