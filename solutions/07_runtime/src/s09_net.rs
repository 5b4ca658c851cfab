//! # TCP and the runtime
//!
//! With the reactor of stage 8 a socket operation becomes a future. Every operation follows
//! one pattern: try the syscall; on `WouldBlock`, await readiness
//! ([`Reactor::poll_ready`](crate::s08_reactor::Reactor::poll_ready)); try again. Readiness is
//! only a hint; the syscall decides. Build:
//!
//! - [`TcpListener`] (`bind`, `accept`) and [`TcpStream`] (`connect`, `read`, `write`,
//!   `write_all`, `shutdown_write`), registered with the reactor of the runtime they are
//!   created in. Their `Drop` removes the registration *before* the socket is closed.
//! - [`Runtime`]: the executor, the timers of stage 7 and the reactor together, with a
//!   thread-local context so that [`spawn`], `sleep` and `TcpListener::bind` work inside
//!   [`Runtime::block_on`]. When nothing is runnable the run loop waits in the reactor, so a
//!   wake from another thread must interrupt that wait: the executor's unparker calls
//!   `reactor.notify()`, but only for wakes from other threads (a wake on the runtime's own
//!   thread happens while it runs, so the run loop sees it anyway, and a syscall per wake would
//!   be slow).
//!
//! `connect` uses a blocking `std::net::TcpStream::connect` and then switches to non-blocking
//! mode: on loopback the handshake completes in the kernel at once. A non-blocking connect
//! (poll for writable, then read `SO_ERROR`) needs the `socket2` crate; it is left as an
//! exercise.
//!
//! After this stage you can explain why every async read is a loop around `WouldBlock`, and how
//! one thread serves a hundred connections concurrently (concurrency, not parallelism).
//!
//! Read: mio's and async-io's `Async<T>`; tokio's "Async in depth"; Programming Rust,
//! chapter 20, "Primitive Futures and Executors".

use crate::s05_executor::{Executor, Spawner};
use crate::s06_join::JoinHandle;
use crate::s07_timers::TimerHandle;
use crate::s08_reactor::{Direction, Reactor, Registration};
use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

impl Reactor {
    /// The reactor of the runtime running on this thread.
    ///
    /// # Panics
    /// Outside [`Runtime::block_on`].
    pub fn current() -> Arc<Reactor> {
        CONTEXT
            .with(|c| c.borrow().as_ref().map(|c| c.reactor.clone()))
            .expect("no reactor: sockets must be created inside `Runtime::block_on` or a task")
    }
}

/// What `spawn` and the sockets find on the runtime's thread.
struct RuntimeContext {
    spawner: Spawner,
    reactor: Arc<Reactor>,
}

thread_local! {
    static CONTEXT: RefCell<Option<RuntimeContext>> = const { RefCell::new(None) };
    /// The id of the runtime running on this thread, 0 if none.
    static RUNNING: Cell<u64> = const { Cell::new(0) };
}

/// Restores the previous context when `block_on` returns or unwinds.
struct ContextGuard {
    previous: Option<RuntimeContext>,
    previous_running: u64,
}

impl Drop for ContextGuard {
    fn drop(&mut self) {
        CONTEXT.with(|c| *c.borrow_mut() = self.previous.take());
        RUNNING.with(|r| r.set(self.previous_running));
    }
}

/// A single-threaded runtime: executor, timers and reactor.
pub struct Runtime {
    id: u64,
    // Declared first, so it is dropped first: pending futures (and their sockets) go before
    // the reactor and the timers.
    exec: Executor,
    timers: TimerHandle,
    reactor: Arc<Reactor>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Default for Runtime {
    fn default() -> Self {
        Self::new()
    }
}

impl Runtime {
    /// A new runtime.
    ///
    /// # Panics
    /// If the OS poller cannot be created; see [`Runtime::try_new`].
    pub fn new() -> Runtime {
        Self::try_new().expect("creating the OS poller")
    }

    /// A new runtime, or the error from creating the OS poller.
    pub fn try_new() -> io::Result<Runtime> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let reactor = Arc::new(Reactor::new()?);
        let notifier = reactor.clone();
        let exec = Executor::with_unparker(move || {
            // A wake on the runtime's own thread happens while it runs: no need to interrupt.
            if RUNNING.with(Cell::get) != id {
                let _ = notifier.notify();
            }
        });
        Ok(Runtime {
            id,
            exec,
            timers: TimerHandle::new(),
            reactor,
        })
    }

    /// Spawns a task on this runtime.
    pub fn spawn<F>(&self, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.exec.spawn_with_handle(fut)
    }

    /// The runtime's reactor.
    pub fn reactor(&self) -> &Arc<Reactor> {
        &self.reactor
    }

    /// Runs `fut` and the spawned tasks until `fut` finishes.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        let context = RuntimeContext {
            spawner: self.exec.spawner(),
            reactor: self.reactor.clone(),
        };
        let _guard = ContextGuard {
            previous: CONTEXT.with(|c| c.borrow_mut().replace(context)),
            previous_running: RUNNING.with(|r| r.replace(self.id)),
        };
        let _timers = self.timers.enter();
        self.exec.block_on_with(fut, |idle| {
            let timeout = if idle {
                self.timers
                    .next_deadline()
                    .map(|deadline| deadline.saturating_duration_since(Instant::now()))
            } else {
                Some(Duration::ZERO)
            };
            self.reactor.wait(timeout).expect("waiting for I/O events");
            self.timers.fire_expired(Instant::now());
        })
    }
}

/// Spawns a task on the runtime running on this thread.
///
/// # Panics
/// Outside [`Runtime::block_on`].
pub fn spawn<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let spawner = CONTEXT
        .with(|c| c.borrow().as_ref().map(|c| c.spawner.clone()))
        .expect("no runtime: `spawn` must be called inside `Runtime::block_on` or a task");
    spawner.spawn_with_handle(fut)
}

/// A listening TCP socket.
#[derive(Debug)]
pub struct TcpListener {
    inner: std::net::TcpListener,
    reactor: Arc<Reactor>,
    registration: Registration,
}

impl TcpListener {
    /// Binds a non-blocking listener on the current runtime.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let inner = std::net::TcpListener::bind(addr)?;
        inner.set_nonblocking(true)?;
        let reactor = Reactor::current();
        let registration = reactor.register(&inner)?;
        Ok(TcpListener {
            inner,
            reactor,
            registration,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Waits for a connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) = poll_fn(|cx| {
            loop {
                match self.inner.accept() {
                    Ok(pair) => return Poll::Ready(Ok(pair)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        match self.reactor.poll_ready(
                            &self.inner,
                            &self.registration,
                            Direction::Read,
                            cx,
                        ) {
                            Poll::Ready(Ok(())) => continue,
                            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                            Poll::Pending => return Poll::Pending,
                        }
                    }
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
        })
        .await?;
        Ok((TcpStream::from_std(stream, self.reactor.clone())?, addr))
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        self.reactor.deregister(&self.inner, &self.registration);
    }
}

/// A connected TCP socket. One reader and one writer at a time (the methods take `&mut self`).
#[derive(Debug)]
pub struct TcpStream {
    inner: std::net::TcpStream,
    reactor: Arc<Reactor>,
    registration: Registration,
}

impl TcpStream {
    fn from_std(inner: std::net::TcpStream, reactor: Arc<Reactor>) -> io::Result<TcpStream> {
        inner.set_nonblocking(true)?;
        inner.set_nodelay(true)?;
        let registration = reactor.register(&inner)?;
        Ok(TcpStream {
            inner,
            reactor,
            registration,
        })
    }

    /// Connects to `addr` (blocking for the handshake, see the stage text), on the current
    /// runtime.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let inner = std::net::TcpStream::connect(addr)?;
        TcpStream::from_std(inner, Reactor::current())
    }

    /// The address of the other end.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Runs `op` until it does not block, awaiting readiness in `dir` in between.
    fn poll_io<T>(
        &mut self,
        dir: Direction,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&mut std::net::TcpStream) -> io::Result<T>,
    ) -> Poll<io::Result<T>> {
        loop {
            match op(&mut self.inner) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    match self
                        .reactor
                        .poll_ready(&self.inner, &self.registration, dir, cx)
                    {
                        Poll::Ready(Ok(())) => continue,
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => return Poll::Pending,
                    }
                }
                // Any other error, or success: the caller's. (A non-blocking call never sleeps,
                // so no signal can interrupt it: there is no `Interrupted` to retry.)
                result => return Poll::Ready(result),
            }
        }
    }

    /// Reads into `buf`; `Ok(0)` means the other end closed its writing half.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_io(Direction::Read, cx, |s| s.read(buf))).await
    }

    /// Writes some of `buf`; returns how much.
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_io(Direction::Write, cx, |s| s.write(buf))).await
    }

    /// Writes all of `buf`.
    pub async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Reads until the other end closes, appending to `out`; returns how many bytes were read.
    pub async fn read_to_end(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
        let start = out.len();
        let mut chunk = [0u8; 4096];
        loop {
            match self.read(&mut chunk).await? {
                0 => return Ok(out.len() - start),
                n => out.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Closes the writing half: the other end reads end of stream.
    pub fn shutdown_write(&self) -> io::Result<()> {
        self.inner.shutdown(Shutdown::Write)
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        self.reactor.deregister(&self.inner, &self.registration);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s07_timers::{Elapsed, sleep, timeout};
    use crate::util::watchdog;
    use std::sync::Mutex;
    use std::task::Waker;

    const LIMIT: Duration = Duration::from_secs(20);

    /// Echoes every connection until the client closes it; serves `clients` connections.
    async fn echo_server(listener: TcpListener, clients: usize) -> io::Result<()> {
        let mut handles = Vec::new();
        for _ in 0..clients {
            let (mut stream, _) = listener.accept().await?;
            handles.push(spawn(async move {
                let mut buf = [0u8; 1024];
                loop {
                    let n = stream.read(&mut buf).await?;
                    if n == 0 {
                        return io::Result::Ok(());
                    }
                    stream.write_all(&buf[..n]).await?;
                }
            }));
        }
        for handle in handles {
            handle.await.expect("echo task did not panic")?;
        }
        Ok(())
    }

    fn pattern(client: usize, len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 + client * 7) as u8).collect()
    }

    #[test]
    // Miri: the runtime's poller calls timerfd_create, which Miri does not support
    #[cfg_attr(miri, ignore)]
    fn the_reactor_is_current_only_inside_block_on() {
        let rt = Runtime::new();
        let inside = rt.block_on(async { Reactor::current() });
        assert!(Arc::ptr_eq(&inside, rt.reactor()));
        drop(inside);
        assert!(
            std::panic::catch_unwind(Reactor::current).is_err(),
            "after block_on returns, no reactor is current: it restores the context it found"
        );
    }

    #[test]
    // Miri: the runtime's poller calls timerfd_create, which Miri does not support
    #[cfg_attr(miri, ignore)]
    fn echo_server_serves_100_concurrent_clients_byte_for_byte() {
        const CLIENTS: usize = 100;
        const LEN: usize = 16 * 1024;
        let registered_after = watchdog(LIMIT, || {
            let rt = Runtime::new();
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                let server = spawn(echo_server(listener, CLIENTS));
                let mut clients = Vec::new();
                for c in 0..CLIENTS {
                    clients.push(spawn(async move {
                        let mut stream = TcpStream::connect(addr).await?;
                        let sent = pattern(c, LEN);
                        let mut got = Vec::with_capacity(LEN);
                        let mut buf = [0u8; 4096];
                        // Interleave writing and reading, as a real client would.
                        for chunk in sent.chunks(4096) {
                            stream.write_all(chunk).await?;
                            let n = stream.read(&mut buf).await?;
                            got.extend_from_slice(&buf[..n]);
                        }
                        stream.shutdown_write()?;
                        stream.read_to_end(&mut got).await?;
                        io::Result::Ok(got == sent)
                    }));
                }
                for (c, client) in clients.into_iter().enumerate() {
                    let same = client.await.unwrap().unwrap();
                    assert!(same, "client {c} must get back exactly the bytes it sent");
                }
                server.await.unwrap().unwrap();
            });
            rt.reactor().registered()
        });
        assert_eq!(
            registered_after, 0,
            "every socket was dropped, so no registration is left"
        );
    }

    #[test]
    // Miri: the runtime's poller calls timerfd_create, which Miri does not support
    #[cfg_attr(miri, ignore)]
    fn read_to_end_appends_and_returns_the_bytes_it_read() {
        const LEN: usize = 10_000; // more than one read's worth
        let (n, got) = watchdog(LIMIT, || {
            Runtime::new().block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                let client = spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    stream.write_all(&pattern(1, LEN)).await.unwrap();
                    // Dropping the stream closes it: the server reads the end of the stream.
                });
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut got = b"kept:".to_vec();
                let n = stream.read_to_end(&mut got).await.unwrap();
                client.await.unwrap();
                (n, got)
            })
        });
        assert_eq!(
            n, LEN,
            "read_to_end returns how many bytes it read, not the length of the vector it appended \
             to"
        );
        assert!(
            got.starts_with(b"kept:") && got[5..] == pattern(1, LEN)[..],
            "read_to_end must keep what the vector held and append every byte read, in order"
        );
    }

    #[test]
    // Miri: the runtime's poller calls timerfd_create, which Miri does not support
    #[cfg_attr(miri, ignore)]
    fn read_returns_zero_at_end_of_stream() {
        let n = watchdog(LIMIT, || {
            Runtime::new().block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                let client = spawn(async move {
                    let stream = TcpStream::connect(addr).await.unwrap();
                    stream.shutdown_write().unwrap();
                    sleep(Duration::from_millis(20)).await; // keep it open until the read
                });
                let (mut stream, _) = listener.accept().await.unwrap();
                let n = stream.read(&mut [0u8; 16]).await.unwrap();
                client.await.unwrap();
                n
            })
        });
        assert_eq!(n, 0);
    }

    #[test]
    // Miri: the runtime's poller calls timerfd_create, which Miri does not support
    #[cfg_attr(miri, ignore)]
    fn a_read_on_a_reset_connection_returns_the_error() {
        let result = watchdog(LIMIT, || {
            Runtime::new().block_on(async {
                let peer = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let mut stream = TcpStream::connect(peer.local_addr().unwrap())
                    .await
                    .unwrap();
                stream.write_all(b"never read").await.unwrap();
                let (closer, _) = peer.accept().unwrap();
                // Closing a socket with unread bytes resets the connection: the peer's next read
                // fails with ConnectionReset.
                closer.peek(&mut [0u8; 1]).unwrap();
                drop(closer);
                timeout(Duration::from_secs(5), stream.read(&mut [0u8; 16]))
                    .await
                    .map_err(|Elapsed| "elapsed")
            })
        });
        let result = result.expect(
            "the read waited for readiness after an error: only WouldBlock means 'not ready yet'; \
             every other error goes back to the caller",
        );
        assert_eq!(
            result.map_err(|e| e.kind()),
            Err(io::ErrorKind::ConnectionReset),
            "the peer reset the connection: read must return that error (retrying hides it, and \
             the next try reads 0 as if the stream had ended cleanly)"
        );
    }

    #[test]
    // Miri: the runtime's poller calls timerfd_create, which Miri does not support
    #[cfg_attr(miri, ignore)]
    fn accept_returns_errors_other_than_would_block() {
        let result = watchdog(LIMIT, || {
            Runtime::new().block_on(async {
                let peer = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let connected = std::net::TcpStream::connect(peer.local_addr().unwrap()).unwrap();
                // A connected socket is not a listening one: accept on it fails at once (EINVAL).
                #[cfg(unix)]
                let inner = std::net::TcpListener::from(std::os::fd::OwnedFd::from(connected));
                #[cfg(windows)]
                let inner =
                    std::net::TcpListener::from(std::os::windows::io::OwnedSocket::from(connected));
                inner.set_nonblocking(true).unwrap();
                let reactor = Reactor::current();
                let registration = reactor.register(&inner).unwrap();
                let listener = TcpListener {
                    inner,
                    reactor,
                    registration,
                };
                timeout(Duration::from_secs(5), listener.accept())
                    .await
                    .map(|accepted| accepted.map(|_| ()).map_err(|e| e.kind()))
                    .map_err(|Elapsed| "elapsed")
            })
        });
        let result = result.expect(
            "accept waited for readiness after an error: only WouldBlock means 'no connection \
             yet'; every other error goes back to the caller",
        );
        assert_eq!(
            result,
            Err(io::ErrorKind::InvalidInput),
            "accept on a socket that is not listening fails: accept must return that error"
        );
    }

    #[test]
    // Miri: the runtime's poller calls timerfd_create, which Miri does not support
    #[cfg_attr(miri, ignore)]
    fn a_runtime_shows_its_id_when_debugged() {
        let rt = Runtime::new();
        let shown = format!("{rt:?}");
        assert!(
            shown.starts_with("Runtime { id: ") && shown.contains(&rt.id.to_string()),
            "Runtime's Debug names the type and its id, got {shown:?}"
        );
    }

    #[test]
    // Miri: the runtime's poller calls timerfd_create, which Miri does not support
    #[cfg_attr(miri, ignore)]
    fn a_read_with_a_timeout_times_out_when_no_data_comes() {
        let (result, registered) = watchdog(LIMIT, || {
            let rt = Runtime::new();
            let result = rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                let _silent = TcpStream::connect(addr).await.unwrap(); // never writes
                let (mut stream, _) = listener.accept().await.unwrap();
                let start = Instant::now();
                let result = timeout(Duration::from_millis(50), stream.read(&mut [0u8; 16])).await;
                assert!(start.elapsed() >= Duration::from_millis(50));
                result.map_err(|Elapsed| "elapsed")
            });
            (result, rt.reactor().registered())
        });
        assert_eq!(
            result.unwrap_err(),
            "elapsed",
            "no data: the read must time out"
        );
        assert_eq!(
            registered, 0,
            "registrations are removed when the sockets drop"
        );
    }

    #[test]
    // Miri: the runtime's poller calls timerfd_create, which Miri does not support
    #[cfg_attr(miri, ignore)]
    fn dropping_sockets_removes_their_registrations() {
        watchdog(LIMIT, || {
            let rt = Runtime::new();
            rt.block_on(async {
                let reactor = Reactor::current();
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                let client = TcpStream::connect(addr).await.unwrap();
                let (server, _) = listener.accept().await.unwrap();
                assert_eq!(
                    reactor.registered(),
                    3,
                    "the listener and both ends of the connection are registered"
                );
                drop(client);
                drop(server);
                assert_eq!(
                    reactor.registered(),
                    1,
                    "a dropped stream must deregister: only the listener is left"
                );
                drop(listener);
                assert_eq!(reactor.registered(), 0, "a dropped socket must deregister");
            });
        });
    }

    #[test]
    // Miri: the runtime's poller calls timerfd_create, which Miri does not support
    #[cfg_attr(miri, ignore)]
    fn a_socket_opened_after_others_closed_gets_its_own_events() {
        let received = watchdog(LIMIT, || {
            Runtime::new().block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                // A connection opened and closed again leaves free slots in the reactor.
                let first = TcpStream::connect(addr).await.unwrap();
                let (accepted, _) = listener.accept().await.unwrap();
                drop(first);
                drop(accepted);
                let mut client = TcpStream::connect(addr).await.unwrap();
                let (mut server, _) = listener.accept().await.unwrap();
                let reader = spawn(async move {
                    let mut buf = [0u8; 5];
                    let n = server.read(&mut buf).await.unwrap();
                    buf[..n].to_vec()
                });
                sleep(Duration::from_millis(20)).await; // the reader waits for readiness
                client.write_all(b"hello").await.unwrap();
                timeout(Duration::from_secs(2), reader).await
            })
        });
        assert_eq!(
            received.map(Result::unwrap),
            Ok(b"hello".to_vec()),
            "a socket registered after others were closed must get its own readiness events: \
             the key given to the poller must be the slab index where its state is stored"
        );
    }

    #[test]
    // Miri: the runtime's poller calls timerfd_create, which Miri does not support
    #[cfg_attr(miri, ignore)]
    fn a_wake_from_another_thread_interrupts_the_poller() {
        let elapsed = watchdog(LIMIT, || {
            let rt = Runtime::new();
            let slot: Arc<Mutex<(bool, Option<Waker>)>> = Arc::default();
            let s = slot.clone();
            let t = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                let waker = {
                    let mut state = s.lock().unwrap();
                    state.0 = true;
                    state.1.take()
                };
                waker.into_iter().for_each(Waker::wake);
            });
            let start = Instant::now();
            rt.block_on(poll_fn(|cx| {
                let mut state = slot.lock().unwrap();
                if state.0 {
                    Poll::Ready(())
                } else {
                    state.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            }));
            t.join().unwrap();
            start.elapsed()
        });
        assert!(
            elapsed < Duration::from_secs(5),
            "the runtime slept through a wake: {elapsed:?}"
        );
    }

    #[test]
    // Miri: the runtime's poller calls timerfd_create, which Miri does not support
    #[cfg_attr(miri, ignore)]
    fn timers_and_spawn_work_inside_the_runtime() {
        let order = watchdog(LIMIT, || {
            let rt = Runtime::new();
            rt.block_on(async {
                let a = spawn(async {
                    sleep(Duration::from_millis(20)).await;
                    "late"
                });
                let b = spawn(async {
                    sleep(Duration::from_millis(5)).await;
                    "early"
                });
                let start = Instant::now();
                let (a, b) = (a.await.unwrap(), b.await.unwrap());
                assert!(start.elapsed() >= Duration::from_millis(20));
                [b, a]
            })
        });
        assert_eq!(order, ["early", "late"]);
    }

    #[test]
    #[should_panic(expected = "no runtime")]
    fn spawn_outside_a_runtime_panics_with_a_clear_message() {
        drop(spawn(async {}));
    }
}
