//! Helpers the stages' tests share: a type that asks for 64-byte alignment, and the address of
//! a reference, for checking where an arena put a value.

/// A 64-byte value that must sit at a 64-byte aligned address.
#[repr(align(64))]
pub(crate) struct Align64(pub(crate) [u8; 64]);

/// The address `r` points at (of its first byte, for a slice or a `str`).
pub(crate) fn addr<T: ?Sized>(r: &T) -> usize {
    (r as *const T).cast::<u8>().addr()
}
