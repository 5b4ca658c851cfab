//! Smart pointers from scratch: `MyBox`, `MyRc`, `MyWeak` and `MyArc`.

#![allow(unused_variables, unused_imports, dead_code, unused_mut)]

#[cfg(test)]
mod alloc_counter;
mod sync;
#[cfg(test)]
mod test_support;

pub mod s01_box;
pub mod s02_rc;
pub mod s02b_rc_break;
pub mod s03_weak;
pub mod s04_variance;
pub mod s05_arc;
pub mod s06_arc_weak;
pub mod s07_arc_get_mut;
