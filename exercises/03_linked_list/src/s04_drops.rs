//! # Cycles and drops: why the back links are Weak, and a Drop that does not recurse
//!
//! Two lessons about freeing memory, each with code to write.
//!
//! **Cycles leak.** `StrongNode` is the design this project avoids: its `prev` link is a
//! strong `Rc`, like its `next`. Write `link_strong(a, b)`, which makes `b` follow `a` with
//! strong pointers both ways, and `unlink_strong(a)`, which cuts both pointers between `a` and
//! its successor. The tests link two nodes, drop every handle the program has, and find the
//! nodes still alive through a `Weak`: each node's strong count is held up by the other node,
//! so neither count reaches zero and neither destructor runs. Rust's ownership rules do not
//! prevent this; a leak is memory safe. It is why `List`'s `prev` links are `Weak`: a `Weak`
//! does not keep its target alive, so when the list lets go of its head, the nodes fall one
//! after the other.
//!
//! **Drops recurse.** Without a `Drop` of your own, dropping the list drops `head`, which drops
//! the first node, which drops its `next`, which drops the second node, and so on: one stack
//! frame per node. A 1 000 000-node list dropped on a thread with a 256 KiB stack overflows it
//! and aborts the process. Write `Drop for List<T>` as a loop: take each node's `next` out
//! before letting the node go, so that no drop ever has more than one node to free. (The
//! tests run the million-node drop in a child process, so that an overflow fails the test
//! instead of killing the test run.)
//!
//! The `Drop` here is given with an empty body, not a `todo!` panic: a panic in `drop` would break
//! every other stage's tests, and a panic while unwinding aborts.
//!
//! Afterwards you will know why reference cycles leak, how `Weak` breaks them, and why every
//! linked structure needs an iterative `Drop`.
//!
//! Read: the Rust Book, "Reference Cycles Can Leak Memory"
//! (<https://doc.rust-lang.org/book/ch15-06-reference-cycles.html>), and Too Many Lists, "A Bad
//! Stack", section Drop (<https://rust-unofficial.github.io/too-many-lists/first-drop.html>).

use std::cell::RefCell;
use std::rc::Rc;

use crate::s01_front::List;

/// A node whose back link is strong: two of them linked both ways form a cycle.
pub struct StrongNode<T> {
    pub elem: T,
    pub next: RefCell<Option<Rc<StrongNode<T>>>>,
    pub prev: RefCell<Option<Rc<StrongNode<T>>>>,
}

impl<T> StrongNode<T> {
    /// A new, unlinked node.
    pub fn new(elem: T) -> Rc<Self> {
        Rc::new(StrongNode {
            elem,
            next: RefCell::new(None),
            prev: RefCell::new(None),
        })
    }
}

/// Links `b` after `a`: `a.next` and `b.prev` become strong pointers to each other.
pub fn link_strong<T>(a: &Rc<StrongNode<T>>, b: &Rc<StrongNode<T>>) {
    // TODO: as the doc comment says; the nodes keep their other links.
    todo!("link_strong")
}

/// Cuts the links between `a` and its successor, if it has one, in both directions.
pub fn unlink_strong<T>(a: &Rc<StrongNode<T>>) {
    // TODO: as the doc comment says; nothing to do when `a` has no successor.
    todo!("unlink_strong")
}

impl<T> Drop for List<T> {
    fn drop(&mut self) {
        // TODO: free every node, each exactly once, with a stack depth that does not grow
        // with the length of the list. (Left empty, not `todo!()`: the fields are then
        // dropped recursively, which works for short lists and overflows the stack for long
        // ones.)
    }
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Stdio};
    use std::rc::{Rc, Weak};
    use std::time::{Duration, Instant};

    use super::*;
    use crate::testing::DropLog;

    #[test]
    fn strong_links_point_both_ways() {
        let a = StrongNode::new(1);
        let b = StrongNode::new(2);
        link_strong(&a, &b);
        let next = a.next.borrow().clone().expect("a.next must be b");
        assert!(Rc::ptr_eq(&next, &b), "a.next must be b");
        let prev = b.prev.borrow().clone().expect("b.prev must be a");
        assert!(Rc::ptr_eq(&prev, &a), "b.prev must be a");
        drop((next, prev));
        assert_eq!(
            Rc::strong_count(&a),
            2,
            "a is owned by the handle `a` and b.prev"
        );
        assert_eq!(
            Rc::strong_count(&b),
            2,
            "b is owned by the handle `b` and a.next"
        );
        unlink_strong(&a);
        assert!(a.next.borrow().is_none(), "unlink_strong must cut a.next");
        assert!(
            b.prev.borrow().is_none(),
            "unlink_strong must cut the successor's prev too: while b lives, a strong b.prev \
             keeps a alive"
        );
        assert_eq!(
            (Rc::strong_count(&a), Rc::strong_count(&b)),
            (1, 1),
            "once unlinked, each node is owned by its handle alone"
        );
    }

    #[test]
    fn a_strong_cycle_outlives_every_handle_until_it_is_broken() {
        let log = DropLog::new();
        let a = StrongNode::new(log.track(1));
        let b = StrongNode::new(log.track(2));
        link_strong(&a, &b);
        let watch: Weak<StrongNode<_>> = Rc::downgrade(&a);
        drop(a);
        drop(b);
        // The program has no strong handle left, yet:
        let a = watch
            .upgrade()
            .expect("the cycle keeps `a` alive after its last handle is dropped: a leak");
        assert_eq!(
            log.count(),
            0,
            "no element of a strong cycle is ever dropped on its own"
        );
        assert_eq!(
            Rc::strong_count(&a),
            2,
            "the upgraded handle and b.prev own `a`"
        );
        // Break the cycle by hand, as a program with strong back links would have to.
        unlink_strong(&a);
        assert!(
            a.prev.borrow().is_none(),
            "a had no predecessor: nothing else to cut"
        );
        drop(a);
        assert!(watch.upgrade().is_none(), "once unlinked, `a` is freed");
        assert_eq!(
            log.dropped(),
            vec![1, 2],
            "breaking the cycle frees both nodes"
        );
    }

    #[test]
    fn unlink_strong_without_a_successor_does_nothing() {
        let a = StrongNode::new('a');
        unlink_strong(&a);
        assert!(a.next.borrow().is_none() && a.prev.borrow().is_none());
        assert_eq!(Rc::strong_count(&a), 1);
    }

    #[test]
    fn weak_back_links_let_the_whole_list_be_freed() {
        let log = DropLog::new();
        let mut list = List::new();
        for id in 0..20 {
            list.push_front(log.track(id));
        }
        let mut nodes = Vec::new();
        let mut cur = list.head.clone();
        while let Some(node) = cur {
            nodes.push(Rc::downgrade(&node));
            cur = node.borrow().next.clone();
        }
        assert_eq!(nodes.len(), 20);
        drop(list);
        assert!(
            nodes.iter().all(|w| w.upgrade().is_none()),
            "dropping the list must free every node"
        );
        assert_eq!(log.dropped(), (0..20).collect::<Vec<_>>());
    }

    /// Builds a list of `n` nodes and drops it, all on a thread with a 256 KiB stack.
    fn build_and_drop_on_a_small_stack(n: u32) -> usize {
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let log = DropLog::new();
                let mut list = List::new();
                // Tracking only every 1000th element keeps the log small.
                for i in 0..n {
                    list.push_front((i % 1000 == 0).then(|| log.track(i)));
                }
                drop(list);
                log.count()
            })
            .expect("spawn a thread");
        handle.join().expect("the drop thread panicked")
    }

    const CHILD_ENV: &str = "LINKED_LIST_DEEP_DROP_CHILD";

    #[test]
    fn dropping_a_million_nodes_does_not_overflow_a_small_stack() {
        if cfg!(miri) {
            // Miri cannot start processes, and a million nodes would take it hours.
            assert_eq!(build_and_drop_on_a_small_stack(2_000), 2);
            return;
        }
        if std::env::var_os(CHILD_ENV).is_some() {
            // The child: the real work. An overflow aborts this process only.
            let dropped = build_and_drop_on_a_small_stack(1_000_000);
            assert_eq!(dropped, 1_000, "every element is dropped");
            return;
        }
        // The parent: run this same test in a child process and report how it ended.
        let test_name = concat!(
            "s04_drops::tests::",
            "dropping_a_million_nodes_does_not_overflow_a_small_stack"
        );
        let mut child = Command::new(std::env::current_exe().expect("test binary path"))
            .args([test_name, "--exact", "--test-threads=1", "--nocapture"])
            .env(CHILD_ENV, "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the child test process");
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for the child") {
                break status;
            }
            if Instant::now() > deadline {
                child.kill().ok();
                child.wait().ok();
                panic!("dropping 1 000 000 nodes took over 60 s: is the Drop loop endless?");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            std::io::Read::read_to_string(&mut pipe, &mut stderr).ok();
        }
        assert!(
            status.success(),
            "dropping a 1 000 000-node list on a 256 KiB stack failed ({status}). A stack \
             overflow means the drop recursed once per node: write Drop for List as a loop.\n\
             child stderr:\n{stderr}"
        );
    }
}
