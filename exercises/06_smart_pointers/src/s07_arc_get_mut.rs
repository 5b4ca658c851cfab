//! # A sound `get_mut` for `MyArc`, and `make_mut`
//!
//! Give last stage's `MyArc` two methods. (An `impl` block may live in any module of the crate
//! that defines the type, so this one lives here, next to its tests.)
//!
//! - `MyArc::get_mut`: a `&mut T` if no other `MyArc` *and* no `MyWeak` points to the value,
//!   `None` otherwise.
//! - `MyArc::make_mut`: clone-on-write. A `&mut T` to this pointer's own value: if any other
//!   pointer, strong or weak, shares the block, clone the value into a new block first. Other
//!   `MyArc`s keep the old value; `MyWeak`s keep pointing to the old block. If this pointer
//!   was already alone, change the value in place and allocate nothing.
//!
//! Checking the two counts one after the other is a race: between the two loads, another
//! thread holding a second `MyArc` can `downgrade` it and drop it, leaving `strong == 1` and a
//! `MyWeak` that upgrades and reads the value while you hold the `&mut T`. The fix (Mara
//! Bos's): *lock* the weak count, moving it from 1 to `LOCKED` in one atomic step (only from
//! 1: anything else means a `MyWeak` exists), check `strong == 1`, and unlock by storing 1.
//! Last stage's `downgrade` already waits while the count is `LOCKED`.
//!
//! The orderings are yours: choose the weakest that answer three questions, and write the
//! reason next to each. (1) The lock succeeded: the last `MyWeak` dropped may have upgraded
//! first, and that upgrade must be visible to your strong load. (2) The strong count was 1:
//! every use of the value by the `MyArc`s dropped before must happen before your `&mut T`.
//! (3) Your strong load must not see a decrement made after a `downgrade` that waited for your
//! unlock:
//!
//! ```text
//!   thread A: get_mut on `a`                     thread B: holds `b`, a clone of `a`
//!   lock the weak count (1 -> LOCKED)
//!   load the strong count: 1?  <-- must not read --  drop(b): strong 2 -> 1
//!   unlock (store 1)  --------- read by ---------->  downgrade(&b): weak 1 -> 2
//!                                                      |  program order
//!                                                      v
//!                                                    drop(b), later `w.upgrade()`
//! ```
//!
//! Question 3 is answered by the unlock *and* by `downgrade`'s increment (last stage's file:
//! revisit its ordering). Be honest with yourself there: no check here can catch either one
//! too weak. The bad execution needs a load to read a store that comes later in the other
//! thread's program order, and neither loom nor Miri explores that, so only your argument
//! judges them. Questions 1 and 2 are judged by loom's models (`RUSTFLAGS="--cfg
//! mastery_loom"`), and two plain loads instead of the lock fail
//! `get_mut_racing_downgrade_never_aliases`.
//!
//! Afterwards you will be able to use a sentinel value as a tiny lock, see why a pair of
//! atomic loads is not an atomic check of two counters, and say which orderings a model
//! checker can and cannot judge.
//!
//! Read: Mara Bos, "Rust Atomics and Locks", chapter 6, section "Optimizing":
//! <https://marabos.nl/atomics/building-arc.html#optimizing>; the source of std's
//! `Arc::get_mut`, `is_unique` and `make_mut`: <https://doc.rust-lang.org/src/alloc/sync.rs.html>.

use crate::s06_arc_weak::{LOCKED, MyArc};
use crate::sync::{Ordering, fence};

impl<T> MyArc<T> {
    /// A unique reference to the value, if no other `MyArc` and no `MyWeak` points to it.
    pub fn get_mut(this: &mut Self) -> Option<&mut T> {
        // TODO: `Some` only if this is the only pointer of either kind, checked under the
        // weak-count lock, which is released again whatever the answer. Justify each ordering
        // in a comment.
        todo!()
    }

    /// A unique reference to this pointer's own value, cloned into a new block first if any
    /// other pointer (strong or weak) shares the block.
    pub fn make_mut(this: &mut Self) -> &mut T
    where
        T: Clone,
    {
        // TODO: in place when this pointer is alone; otherwise on a clone of the value in a
        // block of its own.
        todo!()
    }
}

#[cfg(all(test, not(mastery_loom)))]
mod tests {
    use super::MyArc;
    use crate::alloc_counter::{Counts, count};
    use crate::test_support::with_watchdog;

    #[test]
    fn get_mut_needs_no_other_strong_and_no_weak() {
        let mut a = MyArc::new(1);
        *MyArc::get_mut(&mut a).expect("unique: get_mut succeeds") += 1;
        let w = MyArc::downgrade(&a);
        assert!(
            MyArc::get_mut(&mut a).is_none(),
            "a weak pointer exists: no &mut"
        );
        drop(w);
        let b = a.clone();
        assert!(
            MyArc::get_mut(&mut a).is_none(),
            "another MyArc exists: no &mut"
        );
        drop(b);
        assert_eq!(MyArc::get_mut(&mut a).copied(), Some(2));
        assert_eq!(
            MyArc::weak_count(&a),
            0,
            "get_mut must leave the weak count unlocked"
        );
        drop(MyArc::downgrade(&a)); // would spin forever if get_mut left the lock on
    }

    #[test]
    fn get_mut_refused_leaves_the_weak_count_unlocked() {
        let mut a = MyArc::new(1);
        let b = a.clone();
        assert!(
            MyArc::get_mut(&mut a).is_none(),
            "another MyArc exists: no &mut"
        );
        // SAFETY: `b` keeps the block alive; the reference covers the weak count alone.
        let weak = unsafe { &(*b.ptr.as_ptr()).weak };
        assert_eq!(
            weak.load(std::sync::atomic::Ordering::Relaxed),
            1,
            "a get_mut that says None must unlock the weak count too (store 1 back)"
        );
        let w = with_watchdog(move || MyArc::downgrade(&b)); // spins forever on a lock left on
        assert!(w.upgrade().is_some());
        drop(a);
    }

    #[test]
    fn get_mut_races_downgrade_on_another_clone() {
        let rounds = if cfg!(miri) { 4 } else { 300 };
        with_watchdog(move || {
            for _ in 0..rounds {
                let mut a = MyArc::new(0_u64);
                let b = a.clone();
                let t = std::thread::spawn(move || {
                    let w = MyArc::downgrade(&b);
                    drop(b);
                    w.upgrade().map(|s| *s)
                });
                if let Some(v) = MyArc::get_mut(&mut a) {
                    *v = 1;
                }
                let seen = t.join().unwrap();
                assert!(
                    matches!(seen, None | Some(0) | Some(1)),
                    "the other thread read {seen:?}: neither the old value nor the new one"
                );
                assert_eq!(
                    MyArc::weak_count(&a),
                    0,
                    "the other thread's MyWeak is gone and the lock is released"
                );
            }
        });
    }

    #[test]
    fn make_mut_changes_a_lone_value_in_place() {
        let mut a = MyArc::new(41_u64);
        let ((), counts) = count(|| *MyArc::make_mut(&mut a) += 1);
        assert_eq!(
            counts,
            Counts {
                allocs: 0,
                frees: 0
            },
            "make_mut on the only pointer must change the value in place, not clone it into a \
             new block"
        );
        assert_eq!(*a, 42);
    }

    #[test]
    fn make_mut_clones_a_shared_value() {
        let mut a = MyArc::new(String::from("old"));
        let b = a.clone();
        MyArc::make_mut(&mut a).push_str(" and new");
        assert_eq!(
            *b, "old",
            "the other MyArc must keep the old value: make_mut clones"
        );
        assert_eq!(*a, "old and new");
        assert!(
            !MyArc::ptr_eq(&a, &b),
            "after make_mut, `a` has a block of its own"
        );
        assert_eq!(
            (MyArc::strong_count(&a), MyArc::strong_count(&b)),
            (1, 1),
            "make_mut gave up `a`'s place in the shared block"
        );
        let ((), counts) = count(|| MyArc::make_mut(&mut a).make_ascii_uppercase());
        assert_eq!(
            counts.allocs, 0,
            "once `a` is alone, make_mut changes it in place"
        );
        assert_eq!(*a, "OLD AND NEW");
    }

    #[test]
    fn make_mut_leaves_weak_pointers_behind() {
        let mut a = MyArc::new(vec![1, 2]);
        let w = MyArc::downgrade(&a);
        MyArc::make_mut(&mut a).push(3);
        assert_eq!(*a, [1, 2, 3]);
        assert!(
            w.upgrade().is_none(),
            "the weak pointer points to the old block, whose last MyArc is gone: upgrade \
             gives None (make_mut must not write to a value a MyWeak could still reach)"
        );
        assert_eq!(
            MyArc::weak_count(&a),
            0,
            "the new block has no weak pointers"
        );
    }
}

#[cfg(all(test, mastery_loom))]
mod loom_tests {
    use super::MyArc;
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::thread;

    /// A value whose every access loom checks, and that counts its drops.
    struct Tracked {
        cell: UnsafeCell<u32>,
        drops: Arc<AtomicUsize>,
    }
    impl Tracked {
        fn new(drops: &Arc<AtomicUsize>) -> Self {
            Self {
                cell: UnsafeCell::new(1),
                drops: drops.clone(),
            }
        }
        fn read(&self) -> u32 {
            // SAFETY (of the test): loom reports a read not ordered after every write.
            self.cell.with(|p| unsafe { *p })
        }
        fn write(&mut self, v: u32) {
            // SAFETY (of the test): loom reports a write not ordered after every access.
            self.cell.with_mut(|p| unsafe { *p = v });
        }
    }
    impl Drop for Tracked {
        fn drop(&mut self) {
            // Not while unwinding from a violation loom found: the cell may still be marked
            // as being accessed, and a second panic would abort the test process.
            if !std::thread::panicking() {
                self.write(0);
            }
            self.drops.fetch_add(1, Ordering::Relaxed);
        }
    }
    // SAFETY (of the test): loom's `UnsafeCell` checks every access.
    unsafe impl Sync for Tracked {}

    #[test]
    fn get_mut_after_another_thread_drops_its_clone() {
        loom::model(|| {
            let drops = Arc::new(AtomicUsize::new(0));
            let mut a = MyArc::new(Tracked::new(&drops));
            let b = a.clone();
            let t = thread::spawn(move || {
                assert_eq!(b.read(), 1);
                drop(b);
            });
            // If `get_mut` sees the strong count at 1, the other thread's read must happen
            // before our write.
            if let Some(v) = MyArc::get_mut(&mut a) {
                v.write(2);
            }
            t.join().unwrap();
        });
    }

    #[test]
    fn get_mut_racing_an_upgrade_that_outlives_its_weak() {
        loom::model(|| {
            let drops = Arc::new(AtomicUsize::new(0));
            let mut a = MyArc::new(Tracked::new(&drops));
            let w = MyArc::downgrade(&a);
            let t = thread::spawn(move || {
                let s = w.upgrade().expect("`a` is alive");
                drop(w); // the weak count is back to 1, but `s` still points to the value
                assert_eq!(s.read(), 1);
            });
            // Once the weak count is 1 again, the strong load must see the upgrade to `s`.
            if let Some(v) = MyArc::get_mut(&mut a) {
                v.write(2);
            }
            t.join().unwrap();
        });
    }

    #[test]
    fn get_mut_racing_downgrade_never_aliases() {
        loom::model(|| {
            let drops = Arc::new(AtomicUsize::new(0));
            let mut a = MyArc::new(Tracked::new(&drops));
            let b = a.clone();
            let t = thread::spawn(move || {
                let w = MyArc::downgrade(&b);
                drop(b);
                w.upgrade().map(|s| s.read())
            });
            if let Some(v) = MyArc::get_mut(&mut a) {
                v.write(2); // a `&mut T` while the other thread could read: loom would see it
            }
            let _ = t.join().unwrap();
            drop(a);
            assert_eq!(drops.load(Ordering::Relaxed), 1);
        });
    }

    #[test]
    fn downgrade_racing_get_mut_is_never_lost() {
        loom::model(|| {
            let drops = Arc::new(AtomicUsize::new(0));
            let mut a = MyArc::new(Tracked::new(&drops));
            let b = a.clone();
            let t = thread::spawn(move || MyArc::downgrade(&b));
            let _ = MyArc::get_mut(&mut a);
            let w = t.join().unwrap();
            let weak = MyArc::weak_count(&a);
            if weak != 1 {
                // Keep the block alive for the unwinding: with its count lost, dropping `w`
                // would free it under `a`.
                std::mem::forget(w);
            }
            assert_eq!(
                weak, 1,
                "a MyWeak made by downgrade while get_mut held the weak count LOCKED was not \
                 counted: downgrade added 1 to LOCKED (wrapping it to 0), and get_mut's unlock \
                 stored 1 over it"
            );
        });
    }
}
