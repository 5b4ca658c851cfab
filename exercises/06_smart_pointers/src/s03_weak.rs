//! # MyWeak: pointers that do not keep the value alive
//!
//! Build `MyWeak<T>` on the block of the last stage. `MyRc::downgrade` makes a weak pointer
//! (weak count + 1); `MyWeak::upgrade` gives a new `MyRc` if the value is still alive (strong
//! count > 0) and `None` otherwise; dropping a `MyWeak` releases its weak reference, and the
//! last release frees the block. So the value is dropped when the last *strong* pointer goes,
//! and the memory is freed when the last pointer of *any* kind goes. `MyWeak::new()` points
//! nowhere and allocates nothing (an `Option<NonNull<_>>` that is `None`): upgrading it gives
//! `None`.
//!
//! Weak pointers are how a reference-counted graph breaks its cycles: a tree whose children
//! hold `MyRc`s to each other's parents would never be freed, but with children holding a
//! `MyWeak` to their parent, dropping the root frees everything. A test builds such a tree.
//!
//! The trap: the value's own `drop` may run code that upgrades a weak pointer to itself (a
//! node unregistering itself from a parent, say). By then the strong count is already zero,
//! so `upgrade` must return `None`: if your `Drop` for `MyRc` drops the value *before*
//! setting the count to zero, or checks `strong == 0` only after decrementing again, the value
//! is resurrected and dropped twice. And `upgrade` runs while the dropping code holds a
//! `&mut T` to the value, so it must read the counts through references to the count fields
//! only (the helpers of the last stage), never through a `&RcInner<T>` to the whole block:
//! Miri, run on this stage, reports the overlap.
//!
//! `MyWeak` is no more `Send` than `MyRc`, and `get_mut` must now refuse while weak pointers
//! exist: a weak pointer could upgrade and read the value while you hold `&mut T`.
//!
//! ```compile_fail,E0277
//! use smart_pointers::s02_rc::MyRc;
//!
//! let rc = MyRc::new(5);
//! let weak = MyRc::downgrade(&rc);
//! std::thread::spawn(move || weak.upgrade()); // error[E0277]: cannot be sent between threads
//! ```
//!
//! Afterwards you will be able to explain the two lifetimes of a reference-counted block (the
//! value's and the memory's), and use weak pointers to free cyclic structures.
//!
//! Read: The Rust Programming Language, chapter 15.6 "Reference Cycles Can Leak Memory":
//! <https://doc.rust-lang.org/book/ch15-06-reference-cycles.html>; the docs of
//! `std::rc::Weak`.

use crate::s02_rc::{MyRc, RcInner, increment, release_weak, strong, weak};
use std::marker::PhantomData;
use std::ptr::NonNull;

/// A pointer to a `MyRc`'s block that does not keep the value alive.
pub struct MyWeak<T> {
    /// `None` for `MyWeak::new()`, which points nowhere and allocated nothing.
    ptr: Option<NonNull<RcInner<T>>>,
    _owns: PhantomData<RcInner<T>>,
}

impl<T> MyRc<T> {
    /// A new weak pointer to this value.
    pub fn downgrade(this: &Self) -> MyWeak<T> {
        // TODO: a new `MyWeak` to the same block, counted.
        todo!()
    }

    /// How many `MyWeak`s point to this value (not counting the strong pointers' share).
    pub fn weak_count(this: &Self) -> usize {
        // TODO
        todo!()
    }
}

impl<T> MyWeak<T> {
    /// A weak pointer to nothing: `upgrade` always gives `None`. Allocates nothing.
    pub const fn new() -> Self {
        // TODO
        todo!()
    }

    /// A strong pointer to the value, if it is still alive.
    pub fn upgrade(&self) -> Option<MyRc<T>> {
        // TODO: a new `MyRc` to the value while it is alive; `None` once it is dropped, or
        // for `MyWeak::new()`.
        todo!()
    }

    /// How many `MyRc`s point to the value (0 once it is dropped, or for `MyWeak::new()`).
    pub fn strong_count(&self) -> usize {
        // TODO
        todo!()
    }
}

impl<T> Default for MyWeak<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for MyWeak<T> {
    fn clone(&self) -> Self {
        // TODO: increment the weak count (if there is a block).
        todo!()
    }
}

impl<T> Drop for MyWeak<T> {
    fn drop(&mut self) {
        // TODO: release this weak reference (if there is a block).
    }
}

#[cfg(test)]
mod tests {
    use super::MyWeak;
    use crate::alloc_counter::{Counts, count};
    use crate::s02_rc::MyRc;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    struct DropCounter(Rc<Cell<usize>>);
    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    /// Whether `w.upgrade()` gives a strong pointer. Where the answer must be "no", a pointer
    /// wrongly given is forgotten here instead of dropped: dropping it would drop the value a
    /// second time and crash the test before its assertion could say what went wrong.
    fn upgrades<T>(w: &MyWeak<T>) -> bool {
        let upgraded = w.upgrade();
        let some = upgraded.is_some();
        std::mem::forget(upgraded);
        some
    }

    #[test]
    fn upgrade_while_alive_gives_a_strong_pointer() {
        let a = MyRc::new(5);
        let w = MyRc::downgrade(&a);
        assert_eq!(MyRc::weak_count(&a), 1, "downgrade adds one weak pointer");
        assert_eq!(
            MyRc::strong_count(&a),
            1,
            "downgrade does not touch the strong count"
        );
        let b = w
            .upgrade()
            .expect("the value is alive: upgrade must succeed");
        assert_eq!(*b, 5);
        assert!(MyRc::ptr_eq(&a, &b));
        assert_eq!(
            MyRc::strong_count(&a),
            2,
            "a successful upgrade adds a strong pointer"
        );
        assert_eq!(w.strong_count(), 2);
    }

    #[test]
    fn upgrade_after_the_last_strong_drop_is_none() {
        let drops = Rc::new(Cell::new(0));
        let a = MyRc::new(DropCounter(drops.clone()));
        let w = MyRc::downgrade(&a);
        drop(a);
        assert_eq!(
            drops.get(),
            1,
            "the value is dropped with the last strong pointer"
        );
        assert!(
            !upgrades(&w),
            "no strong pointer left (the strong count is 0): upgrade must give None, never \
             resurrect the dropped value"
        );
        assert_eq!(w.strong_count(), 0);
    }

    #[test]
    fn the_block_is_freed_with_the_last_weak_pointer() {
        let ((), counts) = count(|| {
            let a = MyRc::new([0_u64; 8]);
            let w1 = MyRc::downgrade(&a);
            let w2 = w1.clone();
            let (_, inner) = count(|| drop(a));
            assert_eq!(
                inner.frees, 0,
                "weak pointers remain: the block must not be freed"
            );
            let (_, inner) = count(|| drop(w1));
            assert_eq!(inner.frees, 0, "one weak pointer remains: keep the block");
            let (_, inner) = count(|| drop(w2));
            assert_eq!(inner.frees, 1, "the last weak pointer frees the block");
        });
        assert_eq!(
            counts,
            Counts {
                allocs: 1,
                frees: 1
            }
        );
    }

    #[test]
    fn weak_new_allocates_nothing_and_never_upgrades() {
        let (w, counts) = count(|| {
            let w: MyWeak<String> = MyWeak::new();
            let w2 = w.clone();
            drop(w2);
            w
        });
        assert_eq!(
            counts,
            Counts {
                allocs: 0,
                frees: 0
            },
            "MyWeak::new() allocates nothing"
        );
        assert!(w.upgrade().is_none());
        assert_eq!(w.strong_count(), 0);
        assert!(MyWeak::<u8>::default().upgrade().is_none());
    }

    #[test]
    fn get_mut_refuses_while_weak_pointers_exist() {
        let mut a = MyRc::new(1);
        let w = MyRc::downgrade(&a);
        assert!(
            MyRc::get_mut(&mut a).is_none(),
            "a weak pointer could upgrade and read the value: get_mut must refuse"
        );
        drop(w);
        assert!(MyRc::get_mut(&mut a).is_some());
    }

    #[test]
    fn try_unwrap_leaves_weak_pointers_dangling_safely() {
        let ((), counts) = count(|| {
            let a = MyRc::new(String::from("v"));
            let w = MyRc::downgrade(&a);
            let v = MyRc::try_unwrap(a).expect("one strong pointer: try_unwrap succeeds");
            assert_eq!(v, "v");
            assert!(!upgrades(&w), "the value was moved out: upgrade gives None");
            drop(w);
        });
        assert_eq!(
            counts.allocs, counts.frees,
            "the last weak pointer frees the block"
        );
    }

    #[test]
    fn upgrade_inside_the_values_own_drop_is_none() {
        struct SelfAware {
            me: RefCell<MyWeak<SelfAware>>,
            seen_in_drop: Rc<Cell<Option<bool>>>,
        }
        impl Drop for SelfAware {
            fn drop(&mut self) {
                self.seen_in_drop.set(Some(upgrades(&self.me.borrow())));
            }
        }
        let seen = Rc::new(Cell::new(None));
        let ((), counts) = count(|| {
            let a = MyRc::new(SelfAware {
                me: RefCell::new(MyWeak::new()),
                seen_in_drop: seen.clone(),
            });
            *a.me.borrow_mut() = MyRc::downgrade(&a);
            drop(a);
        });
        assert_eq!(
            seen.get(),
            Some(false),
            "inside the value's drop the strong count is 0: upgrade must not resurrect it"
        );
        assert_eq!(
            counts.allocs, counts.frees,
            "the weak inside the value frees the block"
        );
    }

    #[test]
    fn a_parent_child_tree_frees_everything() {
        struct Node {
            name: String,
            parent: RefCell<MyWeak<Node>>,
            children: RefCell<Vec<MyRc<Node>>>,
            drops: Rc<Cell<usize>>,
        }
        impl Drop for Node {
            fn drop(&mut self) {
                self.drops.set(self.drops.get() + 1);
            }
        }
        let drops = Rc::new(Cell::new(0));
        let node = |name: &str| {
            MyRc::new(Node {
                name: name.to_string(),
                parent: RefCell::new(MyWeak::new()),
                children: RefCell::new(Vec::new()),
                drops: drops.clone(),
            })
        };
        let ((), counts) = count(|| {
            let root = node("root");
            for name in ["a", "b", "c"] {
                let child = node(name);
                *child.parent.borrow_mut() = MyRc::downgrade(&root);
                root.children.borrow_mut().push(child);
            }
            let b = root.children.borrow()[1].clone();
            let parent = b.parent.borrow().upgrade().expect("the root is alive");
            assert_eq!(
                parent.name, "root",
                "a child reaches its parent through the weak"
            );
            assert_eq!(
                MyRc::weak_count(&root),
                3,
                "each child holds one weak to the root"
            );
            drop(parent);
            drop(root);
            assert_eq!(
                drops.get(),
                3,
                "the root, `a` and `c` are dropped; `b` is still held"
            );
            assert!(!upgrades(&b.parent.borrow()), "the parent is gone");
            drop(b);
        });
        assert_eq!(drops.get(), 4, "every node is dropped exactly once");
        assert_eq!(
            counts.allocs, counts.frees,
            "the whole tree is freed: no cycle leaks"
        );
    }
}
