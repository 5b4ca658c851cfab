//! # Drop semantics: who runs the destructors?
//!
//! [`Bump`](crate::s04_growth::Bump) never runs a destructor. It cannot: it keeps no record of
//! what type lives where (that record would cost memory and time on every allocation, which is
//! the very thing a bump allocator avoids), and `reset` would have to walk it. So a `String`
//! allocated in a `Bump` leaks its heap buffer when the arena goes away. That is safe (leaking
//! is not undefined behaviour) but rarely what you want for values that own resources.
//!
//! A typed arena fixes it by holding values of one type `T` only: [`TypedArena<T>`] keeps
//! them in a list of `Vec<T>` chunks, and dropping the arena drops the `Vec`s, which drop
//! every value exactly once. Like the typed-arena crate:
//!
//! - `alloc(&self, value) -> &mut T` pushes into the last chunk while it has spare capacity,
//!   and starts a new chunk (double the capacity) when it is full. A chunk is never pushed past
//!   its capacity, so it never reallocates, and references into it stay valid.
//! - The returned reference must come from `chunk.as_mut_ptr().add(index)`: indexing the `Vec`
//!   (`&mut chunk[index]`) goes through `DerefMut`, which makes a `&mut [T]` over the whole
//!   chunk and invalidates the references already handed out. Miri reports that.
//! - The chunk list lives in a `RefCell`, borrowed only inside `alloc`, so `T`'s own code
//!   never runs while it is borrowed.
//!
//! Because values may borrow the arena, nodes can point at each other, cycles included: a
//! `TypedArena<Node<'a>>` whose nodes hold `&'a Node<'a>` compiles. It compiles only because
//! `TypedArena` has no `Drop` impl of its own (leave it so: the `Vec`s do the dropping). The
//! doc of [`TypedArena`] shows the example, and the one line that makes the drop check reject
//! it.
//!
//! Afterwards you can say when an arena must run destructors, why the drop check rejects a
//! self-referential arena with a `Drop` impl, and what `#[may_dangle]` promises.
//!
//! Read: the Rustonomicon, "Drop Check" and "PhantomData"
//! (<https://doc.rust-lang.org/nomicon/dropck.html>); the typed-arena crate
//! (<https://docs.rs/typed-arena>); Rust for Rustaceans, chapter 9
//! ("Unsafe Code": drop check).

use std::cell::RefCell;

/// The capacity, in bytes' worth of `T`, of a typed arena's first chunk.
const FIRST_CHUNK_BYTES: usize = 1024;

/// An arena of values of one type that drops every value when it is dropped.
///
/// Invariant: no chunk is ever pushed past its capacity, so no chunk's buffer ever moves, and
/// references handed out by `alloc` stay valid until the arena is dropped or consumed.
///
/// # Drop check
///
/// Values may borrow the arena, so nodes can point at each other, cycles included. That
/// compiles only because `TypedArena` has no `Drop` impl of its own: `Vec`'s destructor
/// promises (with the unstable `#[may_dangle]`) not to look at the references inside its
/// elements, and the compiler's drop check trusts that. A type with a plain `Drop` impl makes
/// no such promise, so the compiler must assume its `drop` may follow the nodes' references
/// while the arena is being torn down. This compiles:
///
/// ```
/// use std::cell::Cell;
/// use arena::s05_drop::TypedArena;
///
/// struct Node<'a> {
///     next: Cell<Option<&'a Node<'a>>>,
/// }
///
/// struct Wrapper<T>(TypedArena<T>);
///
/// let arena = Wrapper(TypedArena::new());
/// let a: &Node = arena.0.alloc(Node { next: Cell::new(None) });
/// let b: &Node = arena.0.alloc(Node { next: Cell::new(Some(a)) });
/// a.next.set(Some(b));
/// ```
///
/// and adding one empty `Drop` impl to the wrapper stops it compiling (E0713: "borrow may still
/// be in use when destructor runs ... when `arena` is dropped and runs the `Drop` code for type
/// `Wrapper`"):
///
/// ```compile_fail,E0713
/// use std::cell::Cell;
/// use arena::s05_drop::TypedArena;
///
/// struct Node<'a> {
///     next: Cell<Option<&'a Node<'a>>>,
/// }
///
/// struct Wrapper<T>(TypedArena<T>);
/// impl<T> Drop for Wrapper<T> { fn drop(&mut self) {} } // the added line
///
/// let arena = Wrapper(TypedArena::new());
/// let a: &Node = arena.0.alloc(Node { next: Cell::new(None) });
/// let b: &Node = arena.0.alloc(Node { next: Cell::new(Some(a)) });
/// a.next.set(Some(b));
/// ```
pub struct TypedArena<T> {
    chunks: RefCell<Vec<Vec<T>>>,
}

impl<T> Default for TypedArena<T> {
    fn default() -> Self {
        TypedArena::new()
    }
}

impl<T> TypedArena<T> {
    /// An empty arena; the first `alloc` allocates the first chunk.
    pub fn new() -> Self {
        TypedArena {
            chunks: RefCell::new(Vec::new()),
        }
    }

    /// Moves `value` into the arena and returns a reference to it, valid as long as the arena.
    pub fn alloc(&self, value: T) -> &mut T {
        let mut chunks = self.chunks.borrow_mut();
        let needs_chunk = chunks.last().is_none_or(|c| c.len() == c.capacity());
        if needs_chunk {
            let capacity = match chunks.last() {
                Some(last) => last.capacity().saturating_mul(2),
                None => (FIRST_CHUNK_BYTES / size_of::<T>().max(1)).max(1),
            };
            chunks.push(Vec::with_capacity(capacity));
        }
        let chunk = chunks
            .last_mut()
            .expect("a chunk with room was just ensured");
        let index = chunk.len();
        debug_assert!(index < chunk.capacity());
        chunk.push(value);
        // SAFETY: `index` was just initialised by `push`, which did not reallocate (there was
        // spare capacity). `as_mut_ptr` creates no reference to the other elements, so earlier
        // references stay valid. The chunk is never pushed past its capacity nor dropped while
        // `&self` is borrowed, so the element outlives the returned reference.
        unsafe { &mut *chunk.as_mut_ptr().add(index) }
    }

    /// The number of values in the arena.
    pub fn len(&self) -> usize {
        self.chunks.borrow().iter().map(Vec::len).sum()
    }

    /// Whether the arena holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Consumes the arena and returns its values in allocation order.
    pub fn into_vec(self) -> Vec<T> {
        let chunks = self.chunks.into_inner();
        let mut all = Vec::with_capacity(chunks.iter().map(Vec::len).sum());
        for chunk in chunks {
            all.extend(chunk);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s04_growth::Bump;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    /// Records its id in a shared log when dropped.
    struct Tracked {
        id: usize,
        log: Rc<RefCell<Vec<usize>>>,
    }

    impl Drop for Tracked {
        fn drop(&mut self) {
            self.log.borrow_mut().push(self.id);
        }
    }

    /// The capacity of every chunk, oldest first.
    fn capacities<T>(arena: &TypedArena<T>) -> Vec<usize> {
        arena.chunks.borrow().iter().map(Vec::capacity).collect()
    }

    /// Panics if a chunk's capacity changed between `before` and `now`, that is, if the chunk
    /// reallocated, moving every value already handed out from it.
    fn assert_no_chunk_moved(before: &[usize], now: &[usize], value: usize) {
        assert!(
            now.len() >= before.len() && now[..before.len()] == *before,
            "after value {value}, the chunk capacities changed from {before:?} to {now:?}: pushing into a full Vec reallocates it and moves every value already handed out; start a new chunk when len == capacity"
        );
    }

    #[test]
    fn every_value_is_dropped_exactly_once_with_the_arena() {
        let log = Rc::new(RefCell::new(Vec::new()));
        let n = if cfg!(miri) { 100 } else { 1_000 };
        {
            let arena = TypedArena::new();
            for id in 0..n {
                arena.alloc(Tracked {
                    id,
                    log: Rc::clone(&log),
                });
            }
            assert_eq!(arena.len(), n);
            assert!(
                !arena.is_empty(),
                "an arena holding {n} values is not empty"
            );
            assert!(
                log.borrow().is_empty(),
                "nothing may be dropped while the arena lives"
            );
        }
        let mut dropped = log.borrow().clone();
        dropped.sort_unstable();
        assert_eq!(
            dropped,
            (0..n).collect::<Vec<_>>(),
            "each value dropped exactly once"
        );
    }

    #[test]
    fn references_stay_valid_as_the_arena_grows() {
        let arena = TypedArena::new();
        let n = if cfg!(miri) { 300 } else { 3_000 };
        let mut before = Vec::new();
        let refs: Vec<&mut String> = (0..n)
            .map(|i| {
                let r = arena.alloc(i.to_string());
                // Check before anything reads a reference that a reallocation left dangling.
                let now = capacities(&arena);
                assert_no_chunk_moved(&before, &now, i);
                before = now;
                r
            })
            .collect();
        for (i, s) in refs.into_iter().enumerate() {
            assert_eq!(*s, i.to_string(), "value {i} moved or was overwritten");
            s.push('!');
        }
        assert_eq!(arena.len(), n);
    }

    #[test]
    fn a_full_chunk_is_never_pushed_into() {
        let arena = TypedArena::new();
        let mut before = Vec::new();
        let n = if cfg!(miri) { 300 } else { 3_000 };
        for i in 0..n {
            arena.alloc(i);
            let now = capacities(&arena);
            assert_no_chunk_moved(&before, &now, i);
            before = now;
        }
    }

    #[test]
    fn the_first_chunk_holds_about_first_chunk_bytes_of_values() {
        let arena = TypedArena::new();
        arena.alloc(0u64);
        let first = capacities(&arena)[0];
        assert!(
            (64..=256).contains(&first),
            "the first chunk of a TypedArena<u64> holds {first} values: make it about FIRST_CHUNK_BYTES (1024) bytes' worth, 128 u64s, so that small values do not start with a chunk each and the first chunk wastes no memory"
        );
    }

    #[test]
    fn into_vec_moves_the_values_out_without_dropping_them() {
        struct Counted<'a>(&'a Cell<usize>, usize);
        impl Drop for Counted<'_> {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }
        let drops = Cell::new(0);
        let n = if cfg!(miri) { 200 } else { 2_000 };
        let arena = TypedArena::new();
        for i in 0..n {
            arena.alloc(Counted(&drops, i));
        }
        let values = arena.into_vec();
        assert_eq!(
            drops.get(),
            0,
            "into_vec dropped values it returned: a value moved out of a chunk (ptr::read) must not be dropped again with the chunk"
        );
        assert_eq!(
            values.iter().map(|c| c.1).collect::<Vec<_>>(),
            (0..n).collect::<Vec<_>>()
        );
        drop(values);
        assert_eq!(drops.get(), n, "each value dropped exactly once");
    }

    #[test]
    fn zero_sized_values_are_dropped_too() {
        thread_local!(static DROPS: Cell<usize> = const { Cell::new(0) });
        struct Zst;
        impl Drop for Zst {
            fn drop(&mut self) {
                DROPS.with(|d| d.set(d.get() + 1));
            }
        }
        {
            let arena = TypedArena::new();
            for _ in 0..10 {
                arena.alloc(Zst);
            }
            assert_eq!(arena.len(), 10);
        }
        assert_eq!(
            DROPS.with(Cell::get),
            10,
            "every zero-sized value must be dropped once"
        );
    }

    #[test]
    fn nodes_can_point_at_each_other() {
        struct Node<'a> {
            name: &'static str,
            next: Cell<Option<&'a Node<'a>>>,
        }
        let arena = TypedArena::new();
        let a: &Node = arena.alloc(Node {
            name: "a",
            next: Cell::new(None),
        });
        let b: &Node = arena.alloc(Node {
            name: "b",
            next: Cell::new(Some(a)),
        });
        let c: &Node = arena.alloc(Node {
            name: "c",
            next: Cell::new(Some(b)),
        });
        a.next.set(Some(c));
        let mut walk = Vec::new();
        let mut at = a;
        for _ in 0..6 {
            walk.push(at.name);
            at = at.next.get().expect("the nodes form a cycle");
        }
        assert_eq!(walk, ["a", "c", "b", "a", "c", "b"]);
    }

    #[test]
    fn into_vec_returns_values_in_allocation_order() {
        let arena = TypedArena::new();
        let n = if cfg!(miri) { 200 } else { 2_000 };
        for i in 0..n {
            *arena.alloc(i) += 1;
        }
        assert_eq!(arena.into_vec(), (1..=n).collect::<Vec<_>>());
        assert!(TypedArena::<u8>::new().is_empty());
    }

    #[test]
    fn a_value_can_allocate_more_values_while_being_built() {
        let arena = TypedArena::new();
        let first = arena.alloc(vec![1]);
        let second = arena.alloc({
            let inner = arena.alloc(vec![2]);
            inner.push(3);
            inner.clone()
        });
        first.push(4);
        assert_eq!((&first[..], &second[..]), (&[1, 4][..], &[2, 3][..]));
        assert_eq!(arena.len(), 3);
    }

    #[test]
    fn bump_forgets_its_values_but_a_typed_arena_drops_them() {
        struct Counted<'a>(&'a Cell<usize>);
        impl Drop for Counted<'_> {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }
        let drops = Cell::new(0);
        {
            let bump = Bump::new();
            bump.alloc(Counted(&drops));
        }
        assert_eq!(
            drops.get(),
            0,
            "Bump runs no destructor: it does not know what it holds"
        );
        {
            let arena = TypedArena::new();
            arena.alloc(Counted(&drops));
            arena.alloc(Counted(&drops));
        }
        assert_eq!(
            drops.get(),
            2,
            "TypedArena must drop each of its values once"
        );
    }
}
