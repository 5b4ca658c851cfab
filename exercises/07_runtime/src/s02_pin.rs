//! # `Pin` and self-reference
//!
//! An `async` block that holds a reference across an `.await` stores both the value and the
//! reference to it in the same state machine: it is *self-referential*. Move that state machine
//! to another address and the reference dangles. `Pin<P>` is the promise that the value behind
//! the pointer `P` will not move again until it is dropped; `poll` takes `self: Pin<&mut Self>`
//! so that a future may rely on that promise. Types that do not care (most of them) are
//! `Unpin`, and for them `Pin` is no restriction at all. `async` blocks, and any type holding a
//! `PhantomPinned`, are `!Unpin`.
//!
//! Build two things:
//!
//! - [`SelfRef`]: a struct that holds a `String` and a raw pointer to that same `String`.
//!   [`SelfRef::new`] returns it pinned in a `Box` (the heap address never changes), and sets
//!   the pointer only once the value sits at its final address. [`SelfRef::via_pointer`] reads
//!   through the pointer; it is sound only because the value cannot move any more.
//! - [`Map`]: a future combinator, `Map::new(fut, f)` yields `f(fut.await)`, that works for any
//!   future, `Unpin` or not. Inside `poll` you hold `Pin<&mut Map>` and must get a
//!   `Pin<&mut Fut>` to the field (*pin projection*) while the closure field stays freely
//!   movable. That takes one `unsafe` block, and a `// SAFETY:` comment that says why the field
//!   is never moved out of.
//!
//! Pin on the stack with `std::pin::pin!`, on the heap with `Box::pin`. The doctest below must
//! fail to compile: the compiler refuses to give out `&mut` to a pinned `!Unpin` value, because
//! with it you could `mem::swap` the value away.
//!
//! ```compile_fail,E0277
//! use runtime::s02_pin::SelfRef;
//! let mut a = SelfRef::new("a");
//! let mut b = SelfRef::new("b");
//! // Swapping would move the strings, and each pointer would then point into the other box.
//! std::mem::swap(a.as_mut().get_mut(), b.as_mut().get_mut());
//! ```
//!
//! After this stage you can say what `Pin<&mut T>` guarantees, why `poll` needs it, why
//! self-referential structs need it, and where `unsafe` is required to project a pin.
//!
//! Read: the Async Book, "Pinning"; the `std::pin` module documentation
//! (<https://doc.rust-lang.org/std/pin/index.html>), especially "Projections and Structural
//! Pinning"; Rust for Rustaceans, chapter 8, "Asynchronous Programming", on `Pin` and `Unpin`.

use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::ptr;
use std::task::{Context, Poll};

/// A value that points into itself. Only ever handed out pinned.
#[derive(Debug)]
pub struct SelfRef {
    data: String,
    /// Points at `data` once the value is pinned; null before that.
    ptr: *const String,
    _pin: PhantomPinned,
}

impl SelfRef {
    /// A pinned `SelfRef` holding `data`, with its pointer already aimed at its own `data`.
    pub fn new(data: &str) -> Pin<Box<SelfRef>> {
        // TODO: a pinned `SelfRef` whose `ptr` points at its own `data`, at the address where
        //       `data` will stay; every `unsafe` block with a SAFETY comment
        todo!()
    }

    /// The string, read directly.
    pub fn data(self: Pin<&Self>) -> &str {
        &self.get_ref().data
    }

    /// The string, read through the self-pointer.
    pub fn via_pointer(self: Pin<&Self>) -> &str {
        // TODO: dereference `ptr` in an `unsafe` block and say why it is still valid
        todo!()
    }

    /// Replaces the string. Allowed through `Pin`: the struct itself does not move.
    pub fn set_data(self: Pin<&mut Self>, data: &str) {
        // TODO: replace `data` in place without moving the struct; keep `ptr` valid (Miri checks
        //       it)
        todo!()
    }
}

/// Yields `f(fut.await)`. Works for futures that are not `Unpin`, like `async` blocks.
#[derive(Debug)]
pub struct Map<Fut, F> {
    /// Structurally pinned: once `Map` is pinned, `fut` never moves.
    fut: Fut,
    /// Not pinned: taken out by value when `fut` finishes.
    f: Option<F>,
}

impl<Fut, F> Map<Fut, F> {
    /// A future that maps the output of `fut` with `f`.
    pub fn new(fut: Fut, f: F) -> Self {
        Map { fut, f: Some(f) }
    }
}

// `f` is never pinned, so `Map` may move whenever `Fut` may.
impl<Fut: Unpin, F> Unpin for Map<Fut, F> {}

impl<Fut: Future, T, F: FnOnce(Fut::Output) -> T> Future for Map<Fut, F> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        // TODO: poll `fut` without requiring `Fut: Unpin` and without ever moving it; on Ready,
        //       `f` of its output. The SAFETY comment says why `fut` stays where it is pinned
        todo!()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s01_futures::YieldNow;
    use std::pin::pin;
    use std::task::Waker;

    fn poll_pinned<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
        fut.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn self_ref_pointer_points_at_its_own_data() {
        let s = SelfRef::new("hello");
        assert_eq!(s.as_ref().data(), "hello");
        assert_eq!(
            s.as_ref().via_pointer(),
            "hello",
            "the self-pointer must be set after the value is in its final (boxed) place"
        );
    }

    #[test]
    fn self_ref_pointer_holds_the_address_of_the_boxed_field() {
        let s = SelfRef::new("where am I");
        let this = s.as_ref().get_ref();
        assert!(
            ptr::eq(this.ptr, &this.data),
            "the self-pointer must hold the address of the `data` field inside the box: aim it \
             after `Box::pin`, since moving the value into the box changes its address"
        );
    }

    #[test]
    fn self_ref_survives_moving_the_box() {
        let a = SelfRef::new("first");
        let b = SelfRef::new("second");
        // Moving the `Pin<Box<_>>` moves the pointer to the heap, not the value itself.
        let mut moved = vec![a, b];
        let b = moved.pop().unwrap();
        let a = moved.pop().unwrap();
        assert_eq!(a.as_ref().via_pointer(), "first");
        assert_eq!(b.as_ref().via_pointer(), "second");
    }

    #[test]
    fn self_ref_set_data_is_seen_through_the_pointer() {
        let mut s = SelfRef::new("old");
        s.as_mut().set_data("new value");
        assert_eq!(s.as_ref().data(), "new value");
        assert_eq!(
            s.as_ref().via_pointer(),
            "new value",
            "the pointer aims at the field"
        );
    }

    #[test]
    fn map_works_on_an_unpin_future() {
        let mut fut = Map::new(std::future::ready(20), |x: i32| x * 2 + 2);
        assert_eq!(poll_pinned(Pin::new(&mut fut)), Poll::Ready(42));
    }

    #[test]
    fn map_works_on_an_async_block_pinned_on_the_stack() {
        let text = String::from("borrowed across an await");
        let fut = Map::new(
            async {
                let r = &text; // a reference held across `.await`: the block is self-referential
                YieldNow::new().await;
                r.len()
            },
            |n| n + 1,
        );
        let mut fut = pin!(fut);
        assert_eq!(
            poll_pinned(fut.as_mut()),
            Poll::Pending,
            "the inner yield is pending once"
        );
        assert_eq!(poll_pinned(fut.as_mut()), Poll::Ready(text.len() + 1));
    }

    #[test]
    fn map_works_pinned_in_a_box() {
        let mut fut = Box::pin(Map::new(
            async {
                YieldNow::new().await;
                YieldNow::new().await;
                "done"
            },
            str::len,
        ));
        let mut polls = 1;
        while poll_pinned(fut.as_mut()).is_pending() {
            polls += 1;
            assert!(polls < 10, "Map never finished");
        }
        assert_eq!(
            polls, 3,
            "Map must be pending exactly when its inner future is"
        );
    }

    #[test]
    fn map_drops_its_closure_only_once() {
        use std::rc::Rc;
        let token = Rc::new(());
        let held = token.clone();
        let mut fut = Map::new(std::future::ready(()), move |()| Rc::strong_count(&held));
        assert_eq!(poll_pinned(Pin::new(&mut fut)), Poll::Ready(2));
        drop(fut);
        assert_eq!(
            Rc::strong_count(&token),
            1,
            "the closure and its captures must be freed"
        );
    }
}
