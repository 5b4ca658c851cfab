//! # A reactor: readiness from the operating system
//!
//! Sockets in non-blocking mode never make a thread wait: a `read` with no data fails with
//! `ErrorKind::WouldBlock`. To turn that into a future, something must tell the task when to
//! try again. That is the *reactor*: it registers each socket with the operating system's
//! readiness API (epoll on Linux, kqueue on macOS, IOCP on Windows, all behind the `polling`
//! crate), keeps the waker of the task that found the socket not ready, and wakes that task
//! when the OS reports the socket ready. The run loop's idle step then becomes
//! `reactor.wait(time until the next timer)`, which sleeps until a socket is ready, a timer is
//! due, or another thread calls [`Reactor::notify`]. The next stage builds TCP sockets and the
//! runtime on it; here the tests drive the reactor by hand, with `std`'s sockets.
//!
//! Build [`Reactor`]: a `Poller` and a slab of registered sources (the slab index is the key
//! the OS reports their events under), each with a read and a write *direction*: a `ready`
//! flag and a waker.
//!
//! - [`Reactor::register`] adds a socket with no interest yet; [`Reactor::deregister`] removes
//!   it, and its owner must call it *before* the socket is closed (the OS could otherwise reuse
//!   the descriptor for a new socket while the poller still watches it: that is why
//!   `Poller::add` is `unsafe`).
//! - [`Reactor::poll_ready`] is `Ready` if an event for that direction came since the last
//!   call, and uses it up; otherwise it keeps the waker and asks the OS for the next event.
//!   `polling` registrations are *oneshot*: every event disarms them, which is exactly "wake me
//!   once", so each `Pending` arms the interest again, for every direction that has a waiter.
//! - [`Reactor::wait`] collects the events, marks their directions ready and wakes their
//!   wakers, with no lock held (a woken waker may call back into the reactor).
//!
//! Readiness is only a hint: the caller tries its syscall again, and the syscall decides.
//!
//! After this stage you can explain readiness-based I/O: what epoll reports, why a oneshot
//! registration fits a waker, and why a descriptor must leave the poller before it is closed.
//!
//! Read: the `polling` crate documentation (<https://docs.rs/polling>); `man 7 epoll` (level-
//! and edge-triggered, `EPOLLONESHOT`); async-io's `reactor.rs`.

use crate::util::Slab;
use polling::{AsSource, Event, Events, Poller};
use std::io;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Which way a socket must be ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Data to read, a connection to accept, or end of stream.
    Read,
    /// Room in the send buffer.
    Write,
}

#[derive(Debug, Default)]
struct DirectionState {
    /// An event arrived since the last `poll_ready` consumed it.
    ready: bool,
    waker: Option<Waker>,
}

#[derive(Debug, Default)]
struct SourceState {
    read: DirectionState,
    write: DirectionState,
}

impl SourceState {
    fn dir(&mut self, dir: Direction) -> &mut DirectionState {
        match dir {
            Direction::Read => &mut self.read,
            Direction::Write => &mut self.write,
        }
    }
}

/// The reactor's record of one registered socket.
#[derive(Debug)]
pub struct Registration {
    key: usize,
    state: Arc<Mutex<SourceState>>,
}

/// Watches sockets for readiness and wakes the tasks waiting on them.
#[derive(Debug)]
pub struct Reactor {
    poller: Poller,
    sources: Mutex<Slab<Arc<Mutex<SourceState>>>>,
    events: Mutex<Events>,
}

impl Reactor {
    /// A reactor with a new OS poller.
    pub fn new() -> io::Result<Reactor> {
        Ok(Reactor {
            poller: Poller::new()?,
            sources: Mutex::new(Slab::new()),
            events: Mutex::new(Events::new()),
        })
    }

    /// Registers `source` (with no interest yet). It must be deregistered before it is closed.
    pub fn register(&self, source: &impl AsSource) -> io::Result<Registration> {
        // TODO: register `source` with the OS poller, with no interest yet, under a key that
        //       finds its state again; the SAFETY comment says why the registration cannot
        //       outlive the socket
        todo!()
    }

    /// Removes `source` from the poller. Wakers still stored are dropped.
    pub fn deregister(&self, source: &impl AsSource, registration: &Registration) {
        // TODO: delete the source from the poller and its state from the slab
    }

    /// How many sockets are registered.
    pub fn registered(&self) -> usize {
        self.sources.lock().unwrap().len()
    }

    /// `Ready` if an event for `dir` arrived since the last call (consuming it); otherwise
    /// stores the waker, arms the interest and returns `Pending`.
    pub fn poll_ready(
        &self,
        source: &impl AsSource,
        registration: &Registration,
        dir: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        // TODO: Ready if an event for `dir` came since the last call (it is used up); otherwise
        //       Pending, with the waker kept and the poller asked to report the next event in
        //       `dir` (a oneshot registration is disarmed by every event it reports)
        todo!()
    }

    /// Waits for events (up to `timeout`; `None` waits until one arrives or `notify`), and
    /// wakes the tasks they concern. Returns how many tasks it woke.
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<usize> {
        // TODO: wait at most `timeout` for events; every direction an event reports becomes
        //       ready and its waker is woken, with no lock held; returns how many it woke
        todo!()
    }

    /// Interrupts a `wait` in progress (or makes the next one return at once).
    pub fn notify(&self) -> io::Result<()> {
        self.poller.notify()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::watchdog;
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;
    use std::thread;

    const LIMIT: Duration = Duration::from_secs(20);
    /// Long enough for any loopback event; a wait this long that sees nothing has missed one.
    const SOON: Option<Duration> = Some(Duration::from_secs(2));

    /// A waker that counts its wakes.
    #[derive(Default)]
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Counter>, Waker) {
        let counter = Arc::new(Counter::default());
        (counter.clone(), Waker::from(counter))
    }

    fn wakes(counter: &Counter) -> usize {
        counter.0.load(Ordering::SeqCst)
    }

    fn poll(
        reactor: &Reactor,
        source: &impl AsSource,
        registration: &Registration,
        dir: Direction,
        waker: &Waker,
    ) -> Poll<io::Result<()>> {
        reactor.poll_ready(source, registration, dir, &mut Context::from_waker(waker))
    }

    fn listener() -> TcpListener {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        listener
    }

    #[test]
    // Miri: the poller calls timerfd_create, which Miri does not support
    #[cfg_attr(miri, ignore)]
    fn a_listener_is_ready_once_a_client_connects() {
        watchdog(LIMIT, || {
            let reactor = Reactor::new().unwrap();
            let listener = listener();
            let registration = reactor.register(&listener).unwrap();
            assert_eq!(reactor.registered(), 1, "one socket is registered");
            let (count, waker) = counter();
            let read = |waker| poll(&reactor, &listener, &registration, Direction::Read, waker);
            assert!(read(&waker).is_pending(), "no client yet: Pending");
            assert_eq!(
                reactor.wait(Some(Duration::ZERO)).unwrap(),
                0,
                "no event before a client connects"
            );
            let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            assert_eq!(
                reactor.wait(SOON).unwrap(),
                1,
                "the connection is an event; `wait` returns how many wakers it woke"
            );
            assert_eq!(
                wakes(&count),
                1,
                "the event wakes the waker `poll_ready` stored"
            );
            assert!(
                matches!(read(&waker), Poll::Ready(Ok(()))),
                "after the event `poll_ready` is Ready"
            );
            assert!(
                read(&waker).is_pending(),
                "an event is used up by the `poll_ready` that reports it: the next call is \
                 Pending (the caller retries its syscall first, which decides)"
            );
            reactor.deregister(&listener, &registration);
            assert_eq!(
                reactor.registered(),
                0,
                "a deregistered socket is forgotten"
            );
        });
    }

    #[test]
    // Miri: the poller calls timerfd_create, which Miri does not support
    #[cfg_attr(miri, ignore)]
    fn every_pending_arms_the_interest_again() {
        watchdog(LIMIT, || {
            let reactor = Reactor::new().unwrap();
            let listener = listener();
            let addr = listener.local_addr().unwrap();
            let registration = reactor.register(&listener).unwrap();
            let (count, waker) = counter();
            let read = |waker| poll(&reactor, &listener, &registration, Direction::Read, waker);
            let mut clients = Vec::new();
            for round in 1..=3 {
                assert!(read(&waker).is_pending(), "no client waiting: Pending");
                clients.push(TcpStream::connect(addr).unwrap());
                reactor.wait(SOON).unwrap();
                assert_eq!(
                    wakes(&count),
                    round,
                    "connection {round} must wake the waiting task: `polling` registrations are \
                     oneshot (each event disarms them), so every `Pending` must arm the interest \
                     again"
                );
                assert!(matches!(read(&waker), Poll::Ready(Ok(()))));
                listener.accept().unwrap();
            }
            reactor.deregister(&listener, &registration);
        });
    }

    #[test]
    // Miri: the poller calls timerfd_create, which Miri does not support
    #[cfg_attr(miri, ignore)]
    fn read_and_write_readiness_are_separate() {
        watchdog(LIMIT, || {
            let reactor = Reactor::new().unwrap();
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (server, _) = listener.accept().unwrap();
            server.set_nonblocking(true).unwrap();
            let registration = reactor.register(&server).unwrap();
            let (reads, read_waker) = counter();
            let (writes, write_waker) = counter();
            let poll_dir =
                |dir, waker| poll(&reactor, &server, &registration, dir, waker).is_pending();
            assert!(poll_dir(Direction::Read, &read_waker), "no data yet");
            assert!(
                poll_dir(Direction::Write, &write_waker),
                "no event yet, even for writing"
            );
            // The send buffer is empty: writable at once. Nothing to read yet.
            reactor.wait(SOON).unwrap();
            assert_eq!(
                (wakes(&reads), wakes(&writes)),
                (0, 1),
                "a writable event wakes the waiting writer, not the waiting reader"
            );
            assert!(
                !poll_dir(Direction::Write, &write_waker),
                "writable after the event"
            );
            assert!(
                poll_dir(Direction::Read, &read_waker),
                "a write event does not make the socket readable"
            );
            std::io::Write::write_all(&mut client, b"x").unwrap();
            reactor.wait(SOON).unwrap();
            assert_eq!(
                (wakes(&reads), wakes(&writes)),
                (1, 1),
                "data wakes the reader, and the writer (no longer waiting) is not woken again"
            );
            assert!(
                !poll_dir(Direction::Read, &read_waker),
                "readable after the event"
            );
            reactor.deregister(&server, &registration);
        });
    }

    #[test]
    // Miri: the poller calls timerfd_create, which Miri does not support
    #[cfg_attr(miri, ignore)]
    fn a_socket_registered_after_another_was_removed_gets_its_own_events() {
        watchdog(LIMIT, || {
            let reactor = Reactor::new().unwrap();
            let (first, second, third) = (listener(), listener(), listener());
            let first_registration = reactor.register(&first).unwrap();
            let second_registration = reactor.register(&second).unwrap();
            reactor.deregister(&first, &first_registration);
            drop(first);
            // The freed slot is reused for the third socket.
            let third_registration = reactor.register(&third).unwrap();
            let (second_count, second_waker) = counter();
            let (third_count, third_waker) = counter();
            let pending = |source, registration, waker| {
                poll(&reactor, source, registration, Direction::Read, waker).is_pending()
            };
            assert!(pending(&second, &second_registration, &second_waker));
            assert!(pending(&third, &third_registration, &third_waker));
            let _client = TcpStream::connect(third.local_addr().unwrap()).unwrap();
            reactor.wait(SOON).unwrap();
            assert_eq!(
                (wakes(&second_count), wakes(&third_count)),
                (0, 1),
                "a connection to the third socket must wake its waiter and no other: the key \
                 given to the poller must be the slab index where its state is stored"
            );
            reactor.deregister(&second, &second_registration);
            reactor.deregister(&third, &third_registration);
        });
    }

    #[test]
    // Miri: the poller calls timerfd_create, which Miri does not support
    #[cfg_attr(miri, ignore)]
    fn notify_interrupts_a_wait_from_another_thread() {
        watchdog(LIMIT, || {
            let reactor = Arc::new(Reactor::new().unwrap());
            let notifier = reactor.clone();
            let t = thread::spawn(move || {
                thread::sleep(Duration::from_millis(20));
                notifier.notify().unwrap();
            });
            assert_eq!(
                reactor.wait(None).unwrap(),
                0,
                "a notification wakes no task"
            );
            t.join().unwrap();
            reactor.notify().unwrap();
            reactor.wait(None).unwrap(); // a notification before the wait is not lost
        });
    }

    /// A waker that looks into the reactor when woken, as a task woken by `wait` may.
    struct Reentrant {
        reactor: Arc<Reactor>,
        seen: AtomicUsize,
    }

    impl Wake for Reentrant {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            let registered = self.reactor.registered();
            self.seen.store(registered, Ordering::SeqCst);
        }
    }

    #[test]
    // Miri: the poller calls timerfd_create, which Miri does not support
    #[cfg_attr(miri, ignore)]
    fn wakers_are_woken_with_no_lock_held() {
        let seen = watchdog(LIMIT, || {
            let reactor = Arc::new(Reactor::new().unwrap());
            let listener = listener();
            let registration = reactor.register(&listener).unwrap();
            let reentrant = Arc::new(Reentrant {
                reactor: reactor.clone(),
                seen: AtomicUsize::new(0),
            });
            let waker = Waker::from(reentrant.clone());
            assert!(poll(&reactor, &listener, &registration, Direction::Read, &waker).is_pending());
            drop(waker);
            let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            reactor.wait(SOON).unwrap();
            reactor.deregister(&listener, &registration);
            reentrant.seen.load(Ordering::SeqCst)
        });
        assert_eq!(seen, 1, "the woken waker saw the registered socket");
    }
}
