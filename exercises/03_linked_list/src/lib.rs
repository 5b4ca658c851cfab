//! A doubly linked deque, first built safely from `Rc`, `RefCell` and `Weak`, then with raw
//! pointers. Each stage is one module; work through them in order.

#![allow(unused_variables, unused_imports, unused_mut, dead_code)]

pub mod s01_front;
pub mod s02_back;
pub mod s03_peek;
pub mod s04_drops;
pub mod s05_iter;
pub mod s06_cursor;
pub mod s07_cursor_edit;
pub mod s08_raw;
pub mod s09_raw_break;
pub mod s10_raw_iter;

#[cfg(test)]
mod testing;

pub use s01_front::List;
pub use s05_iter::IntoIter;
pub use s06_cursor::CursorMut;
pub use s08_raw::RawList;
