//! # Break it: a `&RcInner` held across the free
//!
//! Stage 2 told you to reach the block one field at a time, never through a `&RcInner<T>` to
//! the whole of it. This stage shows the plainest way such a reference goes wrong: it outlives
//! the block. Write `MyRc::release`, which gives up one pointer and returns how many strong
//! pointers are left, as the shortcut a tired programmer writes: take a `&RcInner<T>` to the
//! block, drop `this`, then read the strong count through that reference. It compiles, every
//! test passes natively, and it is wrong on purpose.
//!
//! Why it compiles: `NonNull::as_ref` (like `&*ptr`) gives a reference whose lifetime you
//! choose, and nothing ties it to `this`. The borrow checker sees no borrow of `this`, so it
//! lets the reference live past `drop(this)`. While other pointers remain, the drop only
//! decrements the count, the block survives, and the answer is right. When `this` was the last
//! one, the drop dropped the value and freed the block, and the read goes to freed memory: a
//! use after free. Natively it reads whatever the allocator left in those bytes (glibc keeps
//! its free list there), and `releasing_the_last_pointer_frees_the_block` cannot look at the
//! answer. Miri can. This stage's `miri` check passes when Miri reports a use after free, and
//! the runner shows the report's summary under the verdict.
//!
//! What to look for in the report:
//!
//! - `error: Undefined Behavior: memory access failed: allocN has been freed, so this
//!   pointer is dangling`, pointing at your read of the count: where the bug was *noticed*.
//!   Through a raw pointer (`(*p).strong`) it says `in-bounds pointer arithmetic failed`
//!   instead: reaching the field offsets the block's pointer, an offset must stay inside a
//!   live allocation, and Miri stops there, before the read itself.
//! - `help: allocN was allocated here:` and `help: allocN was deallocated here:`. Both point
//!   into `src/alloc_counter.rs`, the counting allocator the tests install (every `Box` goes
//!   through it), so they say *that* the block was made and freed, not by whom.
//! - the stack backtrace under them: frame 0 is your read in `release`, the next frames the
//!   test that called it. Who freed the block you work out from the code: between making the
//!   reference and reading through it only your `drop(this)` ran, and stage 2's `Drop` frees
//!   the block when the count reaches 0.
//!
//! The sound version reads what it needs while `this` is alive, and lets the borrow checker
//! see the borrow: a helper `fn inner(&self) -> &RcInner<T>` ties the reference to `this`, and
//! with it `drop(this)` before the read no longer compiles (E0505, "cannot move out of `this`
//! because it is borrowed"). `let left = MyRc::strong_count(&this) - 1; drop(this); left` needs
//! no `unsafe` at all. The next stage builds on stage 2's `MyRc`, not on this one.
//!
//! Afterwards you will be able to say why a reference made from a raw pointer can outlive what
//! it points to, and read a use-after-free report: where the memory was allocated, where it
//! was freed, and where it was used after.
//!
//! Read: the Rustonomicon, "Unbounded Lifetimes"
//! (<https://doc.rust-lang.org/nomicon/unbounded-lifetimes.html>); the docs of
//! `NonNull::as_ref`, section "Safety".

use crate::s02_rc::{MyRc, RcInner};

impl<T> MyRc<T> {
    /// Gives up `this` and returns how many strong pointers to the value are left.
    ///
    /// **Unsound on purpose.** It reads the count through a `&RcInner<T>` made before the
    /// drop; when `this` was the last pointer, that drop freed the block.
    pub fn release(this: Self) -> usize {
        // TODO: the shortcut this stage is about: a `&RcInner<T>` to the block, kept across
        // the drop of `this`, and the count read through it afterwards.
        todo!()
    }
}

#[cfg(test)]
mod tests {
    use crate::alloc_counter::count;
    use crate::s02_rc::MyRc;
    use std::cell::Cell;
    use std::rc::Rc;

    struct DropCounter(Rc<Cell<u32>>);
    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn release_reports_the_strong_pointers_left() {
        let a = MyRc::new(String::from("v"));
        let b = a.clone();
        let c = a.clone();
        assert_eq!(
            MyRc::release(b),
            2,
            "release gives up one of three pointers: it must return 2"
        );
        assert_eq!(
            MyRc::strong_count(&a),
            2,
            "release must drop the pointer it is given (the count goes down by one)"
        );
        assert_eq!(
            MyRc::release(c),
            1,
            "one pointer is left after this release"
        );
        assert_eq!(*a, "v", "the value lives while a pointer to it does");
    }

    #[test]
    fn releasing_the_last_pointer_frees_the_block() {
        let drops = Rc::new(Cell::new(0));
        let a = MyRc::new(DropCounter(drops.clone()));
        // The count `release` returns here was read from freed memory: natively it is
        // whatever the allocator left in those bytes, so this test does not look at it.
        let (_left, counts) = count(|| MyRc::release(a));
        assert_eq!(
            drops.get(),
            1,
            "releasing the last pointer must drop the value"
        );
        assert_eq!(
            counts.frees, 1,
            "releasing the last pointer must free the block before release returns \
             (keep no other pointer alive inside release)"
        );
    }
}
