//! # An HTTP/1.1 JSON service on your reactor and your JSON library
//!
//! A small service that keeps a list of items: `GET /items`, `POST /items` with a JSON body,
//! `GET /items/{id}`, `DELETE /items/{id}`. The sockets are project 7's `TcpListener` and
//! `TcpStream` on its single-threaded `Runtime` (moving the reactor onto your multi-threaded
//! executor is a later step); the bodies are read and written by project 2's JSON library and
//! derive. What you write is the part every HTTP server gets wrong at least once:
//!
//! - [`parse_request`] is *sans-IO*: bytes in, [`Parsed::Complete`] with the request and the
//!   number of bytes it used, [`Parsed::Incomplete`] when more bytes must come first, or
//!   [`Parsed::Error`] with the status to answer. It never blocks and never panics, whatever a
//!   hostile client sends. The head (request line and headers, up to the blank line) is at most
//!   [`MAX_HEAD`] bytes, or `431`; the body is exactly `Content-Length` bytes, at most
//!   [`MAX_BODY`], or `413`, refused as soon as the head says so, not after buffering it. A
//!   malformed request line or header, a `Content-Length` that is not plain digits, two of them,
//!   or a head that is not UTF-8 is `400`; `Transfer-Encoding` is `501`; a version other than
//!   HTTP/1.0 or 1.1 is `505`. HTTP/1.1 keeps the connection open unless `Connection: close`;
//!   HTTP/1.0 closes it unless `Connection: keep-alive`.
//! - [`route`] answers one request from the [`Store`]: `404` for an unknown path (or id), `405`
//!   for a known path with the wrong method, `400` for a body that is not the JSON of a
//!   [`NewItem`]. Every error body is JSON: `{"error":"..."}`.
//! - [`Response::write_to`] writes the status line, `Content-Type`, `Content-Length` and, when
//!   the connection ends after it, `Connection: close`.
//! - [`handle_connection`] is one connection's task: read into a buffer, answer *every*
//!   complete request in it in order (a client may pipeline several in one write, and one
//!   request may come in many reads), close after a `Connection: close` or a parse error.
//!   It takes turns: a client whose next request is always there already (on loopback, one
//!   that pipelines without pause) must not keep the thread from every other connection.
//! - [`Server::serve`] accepts connections and spawns a task for each until the [`Shutdown`]
//!   signal; then it is graceful: it stops accepting, lets every connection finish the request
//!   it is in the middle of (answered with `Connection: close`), closes idle keep-alive
//!   connections at once, and returns when every connection task has ended.
//!
//! Given: [`Server::bind`], the store and its item types, [`Shutdown`], and a `race` helper that
//! polls two futures and returns the first output. The tests parse every malformed request a
//! hostile client sends, then run the server on a port of 127.0.0.1 against plain `std::net`
//! clients: keep-alive, pipelining, each error status and the server still serving after it,
//! shutdown with a request in flight, a connection that pipelines 20,000 requests beside one
//! that sends a single POST, and 64 keep-alive clients at once for two seconds. One test runs
//! the whole service in a child process whose global allocator is your stage 3 `CachedAlloc`:
//! a crash there names the allocator.
//!
//! Afterwards you will understand why a server's parser is a pure function over a buffer, what
//! "framing" means (where one request ends and the next begins), which limits keep a hostile
//! client from costing you memory, why a task that never has to wait must still give up the
//! thread, and what graceful shutdown has to wait for.
//!
//! Read: RFC 9112, HTTP/1.1, sections 2-6 (message format, request line, fields, body length)
//! and 9 (connection management, persistence, pipelining):
//! <https://www.rfc-editor.org/rfc/rfc9112>; RFC 9110 section 15 for the status codes.
//!
//! ```
//! use capstone::s04_service::{Parsed, parse_request};
//!
//! let bytes = b"GET /items HTTP/1.1\r\nHost: x\r\n\r\nGET /items/1 HTTP/1.1\r\n";
//! let Parsed::Complete(request, used) = parse_request(bytes) else { panic!("a whole request") };
//! assert_eq!((request.method.as_str(), request.path.as_str()), ("GET", "/items"));
//! assert!(request.keep_alive);
//! assert!(matches!(parse_request(&bytes[used..]), Parsed::Incomplete));
//! ```

use json::{Deserialize, Serialize};
use runtime::s06_join::JoinHandle;
use runtime::s09_net::{TcpListener, TcpStream, spawn};
use std::collections::BTreeMap;
use std::future::{Future, poll_fn};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// The most bytes a request's head (request line, headers and the blank line) may take.
pub const MAX_HEAD: usize = 8 * 1024;
/// The largest request body accepted.
pub const MAX_BODY: usize = 64 * 1024;

/// One parsed request. Header names are lowercase; values are trimmed of spaces and tabs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the connection stays open after this request's response.
    pub keep_alive: bool,
}

impl Request {
    /// The value of the first header called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request was refused: the status to answer and a message for the JSON error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpError {
    pub status: u16,
    pub message: &'static str,
}

impl HttpError {
    pub const fn new(status: u16, message: &'static str) -> HttpError {
        HttpError { status, message }
    }
}

/// What [`parse_request`] made of the bytes so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A whole request, and how many bytes of the buffer it took.
    Complete(Request, usize),
    /// Nothing wrong yet, but the request is not all there.
    Incomplete,
    /// The request is refused; the connection answers the error and closes.
    Error(HttpError),
}

/// Parses the first request in `buf`. Pure: the same bytes give the same answer.
pub fn parse_request(buf: &[u8]) -> Parsed {
    // TODO: the first request of `buf`, complete with its body, or why not yet, or why never.
    todo!()
}

/// The length of the head, blank line included, once it is all in `buf`; `431` as soon as it
/// cannot fit in [`MAX_HEAD`].
pub fn find_head_end(buf: &[u8]) -> Result<Option<usize>, HttpError> {
    // TODO: where the head ends (blank line included), if it is all there; 431 once it cannot fit.
    todo!()
}

/// The request a complete head (blank line included) describes, its body still empty, and the
/// body's length: `400` for a head that is not UTF-8 or a malformed line, `501` for any
/// `Transfer-Encoding`, and the `Content-Length` rules of [`content_length`].
pub fn parse_head(head: &[u8]) -> Result<(Request, usize), HttpError> {
    // TODO: the request a complete head describes (its body still empty), and its body's length.
    todo!()
}

/// `METHOD SP /target SP HTTP/1.x`: the method, the target, and whether it is HTTP/1.0. Exactly
/// three parts, separated by single spaces: a method of ASCII letters, a target that starts with
/// `/` and holds no control character, and `HTTP/1.1` or `HTTP/1.0`. Another `HTTP/` version is
/// `505`; anything else `400`.
pub fn parse_request_line(line: &str) -> Result<(&str, &str, bool), HttpError> {
    // TODO: the method, the target and whether the version is HTTP/1.0; 400 or 505 otherwise.
    todo!()
}

/// `name: value`: the lowercase name and the value trimmed of spaces and tabs. The name is a
/// non-empty token (visible ASCII but no delimiter such as `"(),/:;<=>?@[\]{}`, so no space,
/// not even before the colon); the value holds no control character but tabs. Anything else,
/// including an obsolete folded line (one that starts with a space), is `400`.
pub fn parse_header_line(line: &str) -> Result<(String, String), HttpError> {
    // TODO: one header's lowercase name and trimmed value; 400 for anything malformed.
    todo!()
}

/// The body's length: `0` without `Content-Length`; `400` unless there is at most one and it is
/// plain decimal digits; `413` over [`MAX_BODY`].
pub fn content_length(headers: &[(String, String)]) -> Result<usize, HttpError> {
    // TODO: the body's length the headers announce, refused as the doc comment says.
    todo!()
}

/// HTTP/1.1 keeps the connection unless `Connection: close`; 1.0 closes it unless
/// `Connection: keep-alive`. The header is a comma-separated list of case-insensitive tokens.
pub fn keep_alive(http10: bool, headers: &[(String, String)]) -> bool {
    // TODO: whether the connection stays open after this request.
    todo!()
}

/// One response: a status and a JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

impl Response {
    /// A response whose body is `value` as JSON.
    pub fn json<T: Serialize>(status: u16, value: &T) -> Response {
        match json::to_json(value) {
            Ok(body) => Response { status, body },
            Err(_) => Response::error(500, "the response could not be serialized"),
        }
    }

    /// An error response: `{"error":"<message>"}`.
    pub fn error(status: u16, message: &str) -> Response {
        let body = json::to_json(&ErrorBody { error: message })
            .unwrap_or_else(|_| r#"{"error":"internal error"}"#.to_owned());
        Response { status, body }
    }

    /// Appends the response to `out`: the status line with its reason phrase, the headers
    /// `Content-Type: application/json` and `Content-Length`, `Connection: close` when
    /// `close`, the blank line and the body.
    pub fn write_to(&self, out: &mut Vec<u8>, close: bool) {
        // TODO: the response's bytes, appended to `out`.
        todo!()
    }
}

/// The reason phrase of the statuses this service answers.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        505 => "HTTP Version Not Supported",
        _ => "Internal Server Error",
    }
}

/// What a client posts to create an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewItem {
    pub name: String,
    #[json(default)]
    pub done: bool,
}

/// A stored item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: u64,
    pub name: String,
    pub done: bool,
}

/// The items, by id; ids start at 1 and are never reused.
#[derive(Debug, Default)]
pub struct Store {
    next_id: u64,
    items: BTreeMap<u64, Item>,
}

impl Store {
    pub fn new() -> Store {
        Store::default()
    }

    pub fn list(&self) -> Vec<Item> {
        self.items.values().cloned().collect()
    }

    pub fn get(&self, id: u64) -> Option<Item> {
        self.items.get(&id).cloned()
    }

    pub fn insert(&mut self, new: NewItem) -> Item {
        self.next_id += 1;
        let item = Item {
            id: self.next_id,
            name: new.name,
            done: new.done,
        };
        self.items.insert(item.id, item.clone());
        item
    }

    pub fn remove(&mut self, id: u64) -> Option<Item> {
        self.items.remove(&id)
    }
}

/// Answers one request: `GET`/`POST /items`, `GET`/`DELETE /items/{id}` (200, or 201 for a
/// created item, with the item or the list as JSON); `404` for any other path or an id that is
/// not stored; `405` for a known path and another method; `400` for a body that is not a
/// [`NewItem`].
pub fn route(store: &Mutex<Store>, request: &Request) -> Response {
    // TODO: the response to `request`, from the store.
    todo!()
}

/// A shutdown signal: cloned into every task that must notice it, triggered once from
/// anywhere (any thread).
#[derive(Debug, Clone, Default)]
pub struct Shutdown(Arc<ShutdownInner>);

#[derive(Debug, Default)]
struct ShutdownInner {
    triggered: AtomicBool,
    /// The tasks waiting in [`Shutdown::wait`], by a key each waiting future removes on drop.
    waiters: Mutex<(u64, BTreeMap<u64, Waker>)>,
}

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Triggers the signal and wakes every task waiting for it.
    pub fn trigger(&self) {
        self.0.triggered.store(true, Ordering::SeqCst);
        let waiters = std::mem::take(&mut self.0.waiters.lock().unwrap().1);
        waiters.into_values().for_each(Waker::wake);
    }

    pub fn is_triggered(&self) -> bool {
        self.0.triggered.load(Ordering::SeqCst)
    }

    /// Completes once the signal is triggered (at once if it already was).
    pub fn wait(&self) -> impl Future<Output = ()> + Send + '_ {
        Wait {
            shutdown: self,
            key: None,
        }
    }
}

struct Wait<'a> {
    shutdown: &'a Shutdown,
    key: Option<u64>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let shutdown = self.shutdown;
        let inner = &shutdown.0;
        let mut waiters = inner.waiters.lock().unwrap();
        // Checked under the lock `trigger` takes after setting the flag: no lost wake-up.
        if inner.triggered.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        let (next, map) = &mut *waiters;
        let key = *self.key.get_or_insert_with(|| {
            *next += 1;
            *next
        });
        map.insert(key, cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let mut waiters = self.shutdown.0.waiters.lock().unwrap();
            waiters.1.remove(&key);
        }
    }
}

/// The output of [`race`]: which future finished first.
#[derive(Debug)]
pub enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Polls both futures (`a` first) and returns the output of the first one ready; the other is
/// dropped. An I/O future dropped before it is ready has consumed nothing.
pub async fn race<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(out));
        }
        b.as_mut().poll(cx).map(Either::Right)
    })
    .await
}

/// Serves one connection until the client closes it, a request asks to close it, a request is
/// refused, or the server shuts down. Answers every complete request in the buffer, in order,
/// before reading again, and gives the other tasks a turn after each write of answers; an idle
/// connection (no partial request buffered) closes when `shutdown` is triggered, one in the
/// middle of a request finishes it first.
pub async fn handle_connection(
    stream: TcpStream,
    store: Arc<Mutex<Store>>,
    shutdown: Shutdown,
) -> io::Result<()> {
    // TODO: serve the connection's requests as the doc comment says.
    todo!()
}

/// The service: a listening socket and the store its connections share.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    store: Arc<Mutex<Store>>,
}

impl Server {
    /// Binds the listening socket (port 0 picks a free port). Call it inside
    /// `Runtime::block_on`: the socket registers with the running reactor.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<Server> {
        Ok(Server {
            listener: TcpListener::bind(addr)?,
            store: Arc::new(Mutex::new(Store::new())),
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts connections, each served by its own task, until `shutdown` is triggered; then
    /// stops accepting (the listening socket is closed), waits for every connection task to
    /// end, and returns. An error of `accept` ends the loop the same way and is returned.
    pub async fn serve(self, shutdown: Shutdown) -> io::Result<()> {
        // TODO: accept and serve until shutdown, then shut down gracefully.
        todo!()
    }
}

#[cfg(all(test, not(mastery_loom)))]
mod tests {
    use super::*;
    use crate::test_support::{
        ALLOCATOR_READY, ChildEnd, is_child, run_child, switch_to_program, within,
    };
    use runtime::s09_net::Runtime;
    use std::collections::HashSet;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream as StdStream;
    use std::thread;
    use std::time::{Duration, Instant};

    const GET: &[u8] = b"GET /items HTTP/1.1\r\nHost: localhost\r\n\r\n";

    fn post(body: &str) -> Vec<u8> {
        format!(
            "POST /items HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    #[track_caller]
    fn complete(bytes: &[u8]) -> (Request, usize) {
        match parse_request(bytes) {
            Parsed::Complete(request, used) => (request, used),
            other => panic!(
                "expected a complete request in {:?}, got {other:?}",
                String::from_utf8_lossy(bytes)
            ),
        }
    }

    #[track_caller]
    fn refused(bytes: &[u8], status: u16, why: &str) {
        match parse_request(bytes) {
            Parsed::Error(e) => assert_eq!(
                e.status, status,
                "{why}: must be refused with {status}, was refused with {} ({})",
                e.status, e.message
            ),
            other => panic!("{why}: must be refused with {status}, the parser said {other:?}"),
        }
    }

    #[test]
    fn parses_a_get_with_its_headers() {
        let bytes = b"GET /items/7 HTTP/1.1\r\nHost: localhost\r\nX-Trace:  a\tbc \t\r\n\r\n";
        let (request, used) = complete(bytes);
        assert_eq!(
            used,
            bytes.len(),
            "a request without body ends at the blank line"
        );
        assert_eq!(request.method, "GET");
        assert_eq!(request.path, "/items/7");
        assert_eq!(request.header("host"), Some("localhost"));
        assert_eq!(
            request.header("x-trace"),
            Some("a\tbc"),
            "header names are case-insensitive, values trimmed of spaces and tabs (a tab inside stays)"
        );
        assert!(request.body.is_empty());
        assert!(
            request.keep_alive,
            "HTTP/1.1 keeps the connection by default"
        );
    }

    #[test]
    fn every_prefix_of_a_request_is_incomplete() {
        let bytes = post(r#"{"name":"milk"}"#);
        for cut in 0..bytes.len() {
            assert_eq!(
                parse_request(&bytes[..cut]),
                Parsed::Incomplete,
                "the first {cut} of {} bytes are not a whole request yet",
                bytes.len()
            );
        }
        let (request, used) = complete(&bytes);
        assert_eq!(
            used,
            bytes.len(),
            "the body ends after Content-Length bytes"
        );
        assert_eq!(
            request.body, br#"{"name":"milk"}"#,
            "the body is the bytes after the head"
        );
    }

    #[test]
    fn pipelined_requests_are_taken_one_at_a_time() {
        let mut bytes = post(r#"{"name":"a"}"#);
        bytes.extend_from_slice(GET);
        bytes.extend_from_slice(b"DELETE /items/1 HTTP/1.1\r\n\r\n");
        let mut rest = &bytes[..];
        let mut seen = Vec::new();
        while let Parsed::Complete(request, used) = parse_request(rest) {
            assert!(
                used > 0 && used <= rest.len(),
                "used {used} of {} bytes",
                rest.len()
            );
            seen.push(request.method);
            rest = &rest[used..];
        }
        assert_eq!(seen, ["POST", "GET", "DELETE"], "three requests, in order");
        assert!(rest.is_empty(), "nothing may be left over: {rest:?}");
    }

    #[test]
    fn connection_header_decides_keep_alive() {
        let cases: [(&[u8], bool); 5] = [
            (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false),
            (
                b"GET / HTTP/1.1\r\nconnection: Upgrade, CLOSE\r\n\r\n",
                false,
            ),
            (b"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", true),
            (b"GET / HTTP/1.0\r\n\r\n", false),
            (b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
        ];
        for (bytes, keep) in cases {
            assert_eq!(
                complete(bytes).0.keep_alive,
                keep,
                "keep_alive of {:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn a_head_over_the_limit_is_refused_even_before_it_ends() {
        let mut bytes = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
        bytes.resize(MAX_HEAD, b'a');
        refused(&bytes, 431, "8 KiB of head with no blank line yet");
        bytes.resize(100_000, b'a');
        refused(&bytes, 431, "100 kB of head");
        // A head of exactly MAX_HEAD bytes, blank line included, is allowed.
        let mut exact = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
        exact.resize(MAX_HEAD - 4, b'a');
        exact.extend_from_slice(b"\r\n\r\n");
        assert_eq!(
            complete(&exact).1,
            MAX_HEAD,
            "a head of exactly MAX_HEAD bytes parses"
        );
        // Browsers send kilobytes of cookies: 8 KiB is the usual limit, and 6 kB must pass.
        let cookies = format!("GET / HTTP/1.1\r\nCookie: {}\r\n\r\n", "c".repeat(6000));
        complete(cookies.as_bytes());
    }

    #[test]
    fn a_body_over_the_limit_is_refused_before_it_arrives() {
        let head = format!(
            "POST /items HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        refused(
            head.as_bytes(),
            413,
            "Content-Length over MAX_BODY, with none of the body sent yet",
        );
        let body = format!(r#"{{"name":"{}"}}"#, "x".repeat(32 * 1024));
        let (request, _) = complete(&post(&body));
        assert_eq!(
            request.body.len(),
            body.len(),
            "a 32 KiB body is well within the limit"
        );
        let head = format!("POST /items HTTP/1.1\r\nContent-Length: {MAX_BODY}\r\n\r\n");
        assert_eq!(
            parse_request(head.as_bytes()),
            Parsed::Incomplete,
            "a body of exactly MAX_BODY is allowed: wait for it"
        );
        refused(
            b"POST /items HTTP/1.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n",
            413,
            "a Content-Length too big for any integer",
        );
    }

    #[test]
    fn bad_content_lengths_are_refused() {
        for value in ["abc", "-1", "+5", "1 2", "0x10", "", "5,5", "1.0"] {
            let bytes = format!("POST /items HTTP/1.1\r\nContent-Length: {value}\r\n\r\nhello");
            refused(bytes.as_bytes(), 400, &format!("Content-Length: {value:?}"));
        }
        refused(
            b"POST /items HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
            400,
            "two Content-Length headers (request smuggling)",
        );
        refused(
            b"POST /items HTTP/1.1\r\nContent-Length: 5\r\nContent-length: 6\r\n\r\nhello!",
            400,
            "two Content-Length headers spelled differently",
        );
    }

    #[test]
    fn transfer_encoding_is_not_implemented() {
        refused(
            b"POST /items HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            501,
            "a chunked body",
        );
    }

    #[test]
    fn malformed_heads_are_bad_requests() {
        let cases: &[(&[u8], u16, &str)] = &[
            (b"GET /\r\n\r\n", 400, "a request line without a version"),
            (b" / HTTP/1.1\r\n\r\n", 400, "an empty method"),
            (
                b"G{T / HTTP/1.1\r\n\r\n",
                400,
                "a method that is not letters",
            ),
            (
                b"GET /a\x7f HTTP/1.1\r\n\r\n",
                400,
                "a control character in the target",
            ),
            (
                b"GET / HTTP/1.1\r\nX-A: a\x01b\r\n\r\n",
                400,
                "a control character in a value",
            ),
            (
                b"GET  / HTTP/1.1\r\n\r\n",
                400,
                "two spaces in the request line",
            ),
            (
                b"GET / HTTP/1.1 x\r\n\r\n",
                400,
                "four parts in the request line",
            ),
            (
                b"GET items HTTP/1.1\r\n\r\n",
                400,
                "a target without its leading /",
            ),
            (b"\r\n\r\n", 400, "an empty request line"),
            (b"GET / FTP/1.1\r\n\r\n", 400, "not HTTP at all"),
            (
                b"GET / HTTP/2.0\r\n\r\n",
                505,
                "an HTTP version this server does not speak",
            ),
            (
                b"GET / HTTP/1.1\r\nHost localhost\r\n\r\n",
                400,
                "a header without a colon",
            ),
            (
                b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
                400,
                "a space before the colon",
            ),
            (
                b"GET / HTTP/1.1\r\n: x\r\n\r\n",
                400,
                "an empty header name",
            ),
            (
                b"GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n",
                400,
                "an obsolete folded line",
            ),
        ];
        for &(bytes, status, why) in cases {
            refused(bytes, status, why);
        }
        refused(
            b"GET / HTTP/1.1\r\nX-Name: \xff\xfe\r\n\r\n",
            400,
            "a header value that is not UTF-8",
        );
        refused(
            b"G\xc3T / HTTP/1.1\r\n\r\n",
            400,
            "a request line that is not UTF-8",
        );
    }

    #[test]
    fn no_input_makes_the_parser_panic() {
        // Mutations of a valid request: bytes replaced, cut, duplicated, in a fixed
        // pseudo-random sequence.
        let base = post(r#"{"name":"x","done":true}"#);
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let rounds = if cfg!(miri) { 50 } else { 20_000 };
        for _ in 0..rounds {
            let mut bytes = base.clone();
            for _ in 0..(next() % 4 + 1) {
                let at = (next() as usize) % bytes.len();
                match next() % 3 {
                    0 => bytes[at] = next() as u8,
                    1 => bytes.truncate(at.max(1)),
                    _ => bytes.insert(at, b"\r\n:0 \xff"[(next() % 6) as usize]),
                }
            }
            let outcome = std::panic::catch_unwind(|| parse_request(&bytes));
            match outcome {
                Ok(Parsed::Complete(_, used)) => assert!(
                    used <= bytes.len(),
                    "a request cannot use more bytes than there are"
                ),
                Ok(_) => {}
                Err(_) => panic!(
                    "the parser panicked on {:?}",
                    String::from_utf8_lossy(&bytes)
                ),
            }
        }
    }

    fn request(method: &str, path: &str, body: &str) -> Request {
        Request {
            method: method.into(),
            path: path.into(),
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
            keep_alive: true,
        }
    }

    #[track_caller]
    fn error_of(response: &Response, status: u16) -> String {
        assert_eq!(response.status, status, "status of {response:?}");
        let value: json::Value = json::from_json(&response.body).unwrap_or_else(|e| {
            panic!("an error body must be JSON, got {:?}: {e:?}", response.body)
        });
        match value.get("error") {
            Some(json::Value::String(message)) => message.clone(),
            _ => panic!(
                "an error body is {{\"error\": \"...\"}}, got {}",
                response.body
            ),
        }
    }

    #[test]
    fn routes_create_list_get_and_delete_items() {
        let store = Mutex::new(Store::new());
        let created = route(&store, &request("POST", "/items", r#"{"name":"milk"}"#));
        assert_eq!(created.status, 201, "POST /items creates: {created:?}");
        let item: Item = json::from_json(&created.body).expect("the created item as JSON");
        assert_eq!((item.id, item.name.as_str(), item.done), (1, "milk", false));
        route(
            &store,
            &request("POST", "/items", r#"{"name":"eggs","done":true}"#),
        );

        let list = route(&store, &request("GET", "/items", ""));
        assert_eq!(list.status, 200);
        let items: Vec<Item> = json::from_json(&list.body).expect("the list as JSON");
        assert_eq!(items.len(), 2, "two items were posted: {}", list.body);

        let got = route(&store, &request("GET", "/items/2", ""));
        assert_eq!(got.status, 200, "GET /items/2: {got:?}");
        assert_eq!(json::from_json::<Item>(&got.body).unwrap().name, "eggs");

        let deleted = route(&store, &request("DELETE", "/items/2", ""));
        assert_eq!(
            deleted.status, 200,
            "DELETE /items/2 answers the deleted item"
        );
        error_of(&route(&store, &request("GET", "/items/2", "")), 404);
        error_of(&route(&store, &request("DELETE", "/items/2", "")), 404);
    }

    #[test]
    fn routes_refuse_with_a_json_error() {
        let store = Mutex::new(Store::new());
        error_of(&route(&store, &request("GET", "/nothing", "")), 404);
        error_of(&route(&store, &request("GET", "/items/abc", "")), 404);
        error_of(&route(&store, &request("GET", "/items/1/x", "")), 404);
        error_of(&route(&store, &request("PUT", "/items", "")), 405);
        error_of(&route(&store, &request("POST", "/items/1", "{}")), 405);
        for body in [
            "",
            "{",
            r#"{"name": 3}"#,
            r#"{"nom":"x"}"#,
            "[1]",
            "\"\\u\"",
        ] {
            let message = error_of(&route(&store, &request("POST", "/items", body)), 400);
            assert!(
                !message.is_empty(),
                "the error says what is wrong with {body:?}"
            );
        }
        let mut bad = request("POST", "/items", "");
        bad.body = b"{\"name\":\"\xff\"}".to_vec();
        error_of(&route(&store, &bad), 400);
        let list = route(&store, &request("GET", "/items", ""));
        assert_eq!(list.body, "[]", "no refused request may store an item");
    }

    #[test]
    fn a_response_has_its_length_and_says_when_it_closes() {
        let mut out = Vec::new();
        Response::error(404, "gone").write_to(&mut out, false);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"error\":\"gone\"}"
        );
        let mut out = Vec::new();
        Response::json(200, &Vec::<Item>::new()).write_to(&mut out, true);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 200 OK\r\n") && text.contains("\r\nContent-Length: 2\r\n"),
            "{text:?}"
        );
        assert!(
            text.contains("\r\nConnection: close\r\n"),
            "a closing response says so: {text:?}"
        );
        assert!(text.ends_with("\r\n\r\n[]"), "{text:?}");
        for (status, line) in [
            (201, "HTTP/1.1 201 Created\r\n"),
            (400, "HTTP/1.1 400 Bad Request\r\n"),
            (405, "HTTP/1.1 405 Method Not Allowed\r\n"),
            (413, "HTTP/1.1 413 Content Too Large\r\n"),
            (431, "HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            (501, "HTTP/1.1 501 Not Implemented\r\n"),
            (505, "HTTP/1.1 505 HTTP Version Not Supported\r\n"),
        ] {
            let mut out = Vec::new();
            Response::error(status, "x").write_to(&mut out, false);
            assert!(
                out.starts_with(line.as_bytes()),
                "the status line of a {status}: {:?}",
                String::from_utf8_lossy(&out)
            );
        }
    }

    #[test]
    fn a_wait_that_is_dropped_forgets_its_waker() {
        let shutdown = Shutdown::new();
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..3 {
            let mut wait = pin!(shutdown.wait());
            assert!(
                wait.as_mut().poll(&mut cx).is_pending(),
                "not triggered yet"
            );
            assert!(
                wait.as_mut().poll(&mut cx).is_pending(),
                "polled again, still pending"
            );
        }
        let waiting = shutdown.0.waiters.lock().unwrap().1.len();
        assert_eq!(
            waiting, 0,
            "a connection that ends must not leave its waker behind"
        );
        let mut wait = pin!(shutdown.wait());
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        shutdown.trigger();
        assert!(
            wait.as_mut().poll(&mut cx).is_ready(),
            "a triggered signal is ready"
        );
    }

    // ---- the server, on real sockets ----

    struct Running {
        addr: SocketAddr,
        shutdown: Shutdown,
        thread: thread::JoinHandle<io::Result<()>>,
    }

    fn start() -> Running {
        let shutdown = Shutdown::new();
        let signal = shutdown.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = thread::spawn(move || {
            Runtime::new().block_on(async move {
                let server = Server::bind("127.0.0.1:0")?;
                tx.send(server.local_addr()?).unwrap();
                server.serve(signal).await
            })
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the server did not bind 127.0.0.1:0");
        Running {
            addr,
            shutdown,
            thread,
        }
    }

    impl Running {
        fn stop(self) {
            self.shutdown.trigger();
            let deadline = Instant::now() + Duration::from_secs(10);
            while !self.thread.is_finished() {
                assert!(
                    Instant::now() < deadline,
                    "serve did not return within 10 s of the shutdown signal with no request in flight"
                );
                thread::sleep(Duration::from_millis(10));
            }
            self.thread
                .join()
                .expect("the server thread panicked")
                .expect("serve returned an error");
        }
    }

    struct Client {
        reader: BufReader<StdStream>,
        writer: StdStream,
    }

    #[derive(Debug)]
    struct Reply {
        status: u16,
        close: bool,
        body: String,
    }

    impl Client {
        fn connect(addr: SocketAddr) -> Client {
            let writer = StdStream::connect(addr).expect("connecting to the server");
            writer
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            Client {
                reader: BufReader::new(writer.try_clone().unwrap()),
                writer,
            }
        }

        fn send(&mut self, bytes: &[u8]) {
            self.writer.write_all(bytes).expect("sending a request");
        }

        /// Reads one response; `None` if the server closed the connection first.
        fn reply(&mut self) -> Option<Reply> {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return None,
                Err(e) => panic!("no response from the server: {e}"),
            }
            let status = line
                .strip_prefix("HTTP/1.1 ")
                .and_then(|rest| rest.get(..3))
                .and_then(|code| code.parse().ok())
                .unwrap_or_else(|| panic!("not an HTTP/1.1 status line: {line:?}"));
            let (mut length, mut close) = (None, false);
            loop {
                line.clear();
                self.reader
                    .read_line(&mut line)
                    .expect("reading the response's headers");
                let header = line.trim_end();
                if header.is_empty() {
                    break;
                }
                let (name, value) = header.split_once(':').expect("a header line");
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse::<usize>().ok(),
                    "connection" => close = value.trim().eq_ignore_ascii_case("close"),
                    _ => {}
                }
            }
            let length = length.expect("every response has a Content-Length");
            let mut body = vec![0; length];
            self.reader
                .read_exact(&mut body)
                .expect("reading Content-Length bytes of body");
            let body = String::from_utf8(body).expect("a UTF-8 body");
            Some(Reply {
                status,
                close,
                body,
            })
        }

        #[track_caller]
        fn expect(&mut self, what: &str) -> Reply {
            self.reply().unwrap_or_else(|| {
                panic!("the server closed the connection instead of answering {what}")
            })
        }

        /// Whether the server has closed the connection (reads end of file).
        fn is_closed(&mut self) -> bool {
            let mut rest = Vec::new();
            match self.reader.read_to_end(&mut rest) {
                Ok(_) => rest.is_empty(),
                Err(e) => e.kind() == io::ErrorKind::ConnectionReset,
            }
        }
    }

    // Miri: real sockets on the runtime's poller, which calls timerfd_create (unsupported)
    #[test]
    #[cfg_attr(miri, ignore)]
    fn keep_alive_serves_many_requests_on_one_connection() {
        within(
            30,
            "a request on a kept-alive connection was never answered",
            || {
                let server = start();
                let mut client = Client::connect(server.addr);
                for i in 0..5 {
                    client.send(&post(&format!(r#"{{"name":"n{i}"}}"#)));
                    let reply = client.expect("a POST on a kept-alive connection");
                    assert_eq!(reply.status, 201, "POST number {}: {reply:?}", i + 1);
                    assert!(
                        !reply.close,
                        "HTTP/1.1 keeps the connection open: {reply:?}"
                    );
                    client.send(format!("GET /items/{} HTTP/1.1\r\n\r\n", i + 1).as_bytes());
                    let reply = client.expect("a GET on a kept-alive connection");
                    assert!(reply.body.contains(&format!("\"n{i}\"")), "{reply:?}");
                }
                client.send(b"GET /items HTTP/1.1\r\nConnection: close\r\n\r\n");
                let reply = client.expect("a request with Connection: close");
                assert!(
                    reply.close,
                    "the response to Connection: close says it closes"
                );
                assert_eq!(json::from_json::<Vec<Item>>(&reply.body).unwrap().len(), 5);
                assert!(
                    client.is_closed(),
                    "after Connection: close the server closes"
                );
                server.stop();
            },
        );
    }

    // Miri: real sockets on the runtime's poller, which calls timerfd_create (unsupported)
    #[test]
    #[cfg_attr(miri, ignore)]
    fn a_request_split_across_writes_is_answered_once() {
        within(30, "a request sent in pieces was never answered", || {
            let server = start();
            let mut client = Client::connect(server.addr);
            let bytes = post(r#"{"name":"slow"}"#);
            for piece in bytes.chunks(7) {
                client.send(piece);
                client.writer.flush().unwrap();
                thread::sleep(Duration::from_millis(5));
            }
            let reply = client.expect("a request sent in pieces");
            assert_eq!(reply.status, 201, "{reply:?}");
            client.send(GET);
            let items: Vec<Item> = json::from_json(&client.expect("a GET").body).unwrap();
            assert_eq!(items.len(), 1, "one POST, one item: {items:?}");
            server.stop();
        });
    }

    // Miri: real sockets on the runtime's poller, which calls timerfd_create (unsupported)
    #[test]
    #[cfg_attr(miri, ignore)]
    fn pipelined_requests_are_answered_in_order() {
        within(30, "a pipelined request was never answered", || {
            let server = start();
            let mut client = Client::connect(server.addr);
            let mut burst = Vec::new();
            for name in ["a", "b", "c"] {
                burst.extend(post(&format!(r#"{{"name":"{name}"}}"#)));
            }
            burst.extend_from_slice(b"GET /items/2 HTTP/1.1\r\n\r\n");
            burst.extend_from_slice(b"DELETE /items/1 HTTP/1.1\r\n\r\n");
            burst.extend_from_slice(GET);
            client.send(&burst);
            let statuses: Vec<u16> = (0..6)
                .map(|i| client.expect(&format!("pipelined request {}", i + 1)))
                .map(|reply| reply.status)
                .collect();
            assert_eq!(
                statuses,
                [201, 201, 201, 200, 200, 200],
                "six answers, in order"
            );
            client.send(GET);
            let items: Vec<Item> = json::from_json(&client.expect("a GET").body).unwrap();
            let names: Vec<_> = items.iter().map(|i| i.name.as_str()).collect();
            assert_eq!(names, ["b", "c"], "three posted, the first deleted");
            server.stop();
        });
    }

    // Miri: real sockets on the runtime's poller, which calls timerfd_create (unsupported)
    #[test]
    #[cfg_attr(miri, ignore)]
    fn every_error_has_a_json_body_and_the_server_keeps_serving() {
        within(30, "an error response never came", || {
            let server = start();
            // Route errors keep the connection.
            let mut client = Client::connect(server.addr);
            for (bytes, status) in [
                (&b"GET /nope HTTP/1.1\r\n\r\n"[..], 404),
                (b"PATCH /items HTTP/1.1\r\n\r\n", 405),
                (&post("{\"name\":")[..], 400),
            ] {
                client.send(bytes);
                let reply = client.expect("a request the routes refuse");
                assert_eq!(reply.status, status, "{reply:?}");
                assert!(
                    reply.body.starts_with("{\"error\":"),
                    "a JSON error body: {reply:?}"
                );
                assert!(
                    !reply.close,
                    "a route error keeps the connection: {reply:?}"
                );
            }
            // Parse errors close it, after the answer.
            // Exactly MAX_HEAD bytes and no blank line: the server reads them all before it
            // refuses, so no unread byte turns its close into a reset.
            let mut big_head = b"GET / HTTP/1.1\r\nX: ".to_vec();
            big_head.resize(MAX_HEAD, b'a');
            let big_body = format!(
                "POST /items HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
                MAX_BODY + 1
            );
            for (bytes, status) in [
                (&big_head[..], 431),
                (big_body.as_bytes(), 413),
                (
                    b"POST /items HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                    501,
                ),
                (b"POST /items HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
                (b"GET / HTTP/1.1\r\nX: \xff\r\n\r\n", 400),
            ] {
                let mut client = Client::connect(server.addr);
                client.send(bytes);
                let reply = client.expect(&format!("a request refused with {status}"));
                assert_eq!(reply.status, status, "{reply:?}");
                assert!(
                    reply.body.starts_with("{\"error\":"),
                    "a JSON error body: {reply:?}"
                );
                assert!(
                    reply.close,
                    "a refused request closes the connection: {reply:?}"
                );
                assert!(
                    client.is_closed(),
                    "the server closes after answering {status}"
                );
            }
            let mut client = Client::connect(server.addr);
            client.send(GET);
            let reply = client.expect("a GET after the errors");
            assert_eq!(
                (reply.status, reply.body.as_str()),
                (200, "[]"),
                "the server still serves"
            );
            server.stop();
        });
    }

    // Miri: real sockets on the runtime's poller, which calls timerfd_create (unsupported)
    #[test]
    #[cfg_attr(miri, ignore)]
    fn shutdown_finishes_the_request_in_flight_and_closes_idle_connections() {
        within(30, "shutdown hung", || {
            let server = start();
            // The busy connection is accepted first: serve must wait for it even after it
            // accepted others.
            let mut busy = Client::connect(server.addr);
            let bytes = post(r#"{"name":"last"}"#);
            let (first, second) = bytes.split_at(bytes.len() - 5);
            busy.send(first);
            thread::sleep(Duration::from_millis(50));
            let mut idle = Client::connect(server.addr);
            idle.send(GET);
            idle.expect("a GET before shutdown");
            thread::sleep(Duration::from_millis(50));

            server.shutdown.trigger();
            assert!(
                idle.is_closed(),
                "an idle keep-alive connection closes at shutdown"
            );
            thread::sleep(Duration::from_millis(200));
            assert!(
                !server.thread.is_finished(),
                "serve returned while a request was still in flight"
            );
            busy.send(second);
            let reply = busy.expect("the request in flight at shutdown");
            assert_eq!(
                reply.status, 201,
                "the request in flight is served: {reply:?}"
            );
            assert!(
                reply.close,
                "a response during shutdown says Connection: close"
            );
            assert!(busy.is_closed(), "the connection closes after it");

            let deadline = Instant::now() + Duration::from_secs(10);
            while !server.thread.is_finished() {
                assert!(
                    Instant::now() < deadline,
                    "serve did not return after the last request"
                );
                thread::sleep(Duration::from_millis(10));
            }
            server
                .thread
                .join()
                .unwrap()
                .expect("serve returned an error");
            assert!(
                StdStream::connect(server.addr).is_err(),
                "after serve returns, the listening socket is closed"
            );
        });
    }

    /// One round of a load client: a POST and a GET pipelined, then the DELETE of the new item
    /// once its id is known, every answer checked. Returns the item's id.
    fn post_get_delete(client: &mut Client, name: &str) -> u64 {
        let mut both = post(&format!(r#"{{"name":"{name}"}}"#));
        both.extend_from_slice(b"GET /items/0 HTTP/1.1\r\n\r\n");
        client.send(&both);
        let created = client.expect("a POST");
        assert_eq!(created.status, 201, "{created:?}");
        let item: Item = json::from_json(&created.body).unwrap();
        assert_eq!(item.name, name, "the answer to another request");
        let missing = client.expect("a GET");
        assert_eq!(missing.status, 404, "id 0 is never stored: {missing:?}");
        client.send(format!("DELETE /items/{} HTTP/1.1\r\n\r\n", item.id).as_bytes());
        let deleted = client.expect("a DELETE");
        assert_eq!(deleted.status, 200, "{deleted:?}");
        assert!(
            deleted.body.contains(name),
            "deleted another item: {deleted:?}"
        );
        item.id
    }

    // Miri: real sockets on the runtime's poller, which calls timerfd_create (unsupported)
    #[test]
    #[cfg_attr(miri, ignore)]
    fn a_connection_that_never_waits_does_not_keep_the_server_to_itself() {
        within(60, "a request was never answered", || {
            const BURST: usize = 20_000;
            let server = start();
            let mut other = Client::connect(server.addr);
            other.send(GET);
            other.expect("a GET before the burst");
            let mut busy = Client::connect(server.addr);
            let mut writer = busy.writer.try_clone().unwrap();
            let burst = GET.repeat(BURST);
            let written = thread::spawn(move || {
                writer
                    .write_all(&burst)
                    .expect("sending the pipelined requests")
            });
            let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let count = answered.clone();
            let answers = thread::spawn(move || {
                // For each answer to the busy connection: whether it lists the other's item.
                (0..BURST)
                    .map(|i| {
                        let reply = busy.expect(&format!("pipelined request {}", i + 1));
                        assert_eq!(reply.status, 200, "{reply:?}");
                        count.fetch_add(1, Ordering::SeqCst);
                        reply.body != "[]"
                    })
                    .collect::<Vec<bool>>()
            });
            written.join().expect("the busy connection's writer failed");
            let deadline = Instant::now() + Duration::from_secs(10);
            while answered.load(Ordering::SeqCst) == 0 {
                assert!(
                    Instant::now() < deadline,
                    "no answer to 20,000 pipelined requests in 10 s"
                );
                thread::sleep(Duration::from_millis(1));
            }
            // The busy connection's task is serving it, and every request of the burst has
            // been handed to the kernel: whenever that task reads, a request is there.
            other.send(&post(r#"{"name":"other"}"#));
            let reply = other.expect("the other connection's POST");
            assert_eq!(reply.status, 201, "{reply:?}");
            let listed = answers.join().expect("the busy connection's answers");
            let after = listed.iter().filter(|&&l| l).count();
            assert!(
                after > 0,
                "the other connection's POST was served only after all {BURST} pipelined \
                 requests of the busy connection: a task whose reads never have to wait keeps \
                 the only thread to itself, and every other connection waits until its client \
                 stops"
            );
            server.stop();
        });
    }

    // Miri: real sockets on the runtime's poller, which calls timerfd_create (unsupported)
    #[test]
    #[cfg_attr(miri, ignore)]
    fn soak_64_keep_alive_clients_lose_nothing() {
        within(60, "a request of the soak was never answered", || {
            let server = start();
            let until = Instant::now() + Duration::from_secs(2);
            let clients: Vec<_> = (0..64)
                .map(|c| {
                    let addr = server.addr;
                    thread::spawn(move || {
                        let mut client = Client::connect(addr);
                        let mut ids = Vec::new();
                        while Instant::now() < until || ids.is_empty() {
                            let name = format!("c{c}-{}", ids.len());
                            ids.push(post_get_delete(&mut client, &name));
                        }
                        ids
                    })
                })
                .collect();
            let mut all = HashSet::new();
            let mut total = 0;
            for client in clients {
                let ids = client.join().expect("a soak client failed");
                total += ids.len();
                all.extend(ids);
            }
            assert_eq!(all.len(), total, "every POST got an id of its own");
            let mut client = Client::connect(server.addr);
            client.send(GET);
            let reply = client.expect("a GET after the soak");
            assert_eq!(
                reply.body, "[]",
                "every item posted was deleted exactly once"
            );
            server.stop();
        });
    }

    // ---- the whole server on your stage 3 allocator ----

    const ON_YOUR_ALLOCATOR: &str =
        "s04_service::tests::the_whole_service_runs_on_your_stage_3_allocator";
    const CLIENTS: usize = 32;
    const ROUNDS: usize = 40;

    /// The child's program: the server and its keep-alive clients, every thread of it taking
    /// its memory from stage 3's `CachedAlloc`.
    fn service_on_your_allocator() {
        switch_to_program();
        let server = start();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let addr = server.addr;
                thread::spawn(move || {
                    let mut client = Client::connect(addr);
                    let ids: Vec<u64> = (0..ROUNDS)
                        .map(|n| post_get_delete(&mut client, &format!("c{c}-{n}")))
                        .collect();
                    client.send(b"GET /items/0 HTTP/1.1\r\nConnection: close\r\n\r\n");
                    let last = client.expect("the last request of a client");
                    assert!(
                        last.status == 404 && last.close,
                        "the last request's answer: {last:?}"
                    );
                    assert!(
                        client.is_closed(),
                        "after the answer to its last request a connection has nothing more to \
                         read: was a request answered twice?"
                    );
                    ids
                })
            })
            .collect();
        let mut all = HashSet::new();
        for client in clients {
            all.extend(client.join().expect("a client failed"));
        }
        assert_eq!(
            all.len(),
            CLIENTS * ROUNDS,
            "every POST got an id of its own"
        );
        let mut client = Client::connect(server.addr);
        client.send(GET);
        let reply = client.expect("a GET after the clients");
        assert_eq!(
            reply.body, "[]",
            "every item posted was deleted exactly once"
        );
        drop(client);
        server.stop();
        println!(
            "{} requests answered on your allocator",
            CLIENTS * (3 * ROUNDS + 1) + 1
        );
    }

    #[test]
    #[cfg_attr(miri, ignore)] // Miri cannot start a process.
    fn the_whole_service_runs_on_your_stage_3_allocator() {
        if is_child(ON_YOUR_ALLOCATOR) {
            return service_on_your_allocator();
        }
        let on = "this test runs the service, with 32 keep-alive clients, in a child process \
                  whose global allocator is your CachedAlloc from stage 3 (capstone-alloc)";
        match run_child(ON_YOUR_ALLOCATOR, 60) {
            ChildEnd::TimedOut(output) => panic!(
                "{on}, and it did not finish in 60 s: a request never answered, or a lock of the \
                 allocator never released; its output:\n{output}"
            ),
            ChildEnd::Exited(status, output) if !output.contains(ALLOCATOR_READY) => panic!(
                "{on}, and that allocator failed before the service started ({status}): stage 3 \
                 must pass first (`mastery run capstone-alloc`); its output:\n{output}"
            ),
            ChildEnd::Exited(status, output) => {
                assert!(
                    status.success(),
                    "{on}, and the service failed on it ({status}). A panic in s04_service.rs \
                     below is the service's; a crash with no panic, or one in s03_alloc.rs, is \
                     the allocator's. Its output:\n{output}"
                );
                assert!(
                    output.contains("1 passed"),
                    "the child process did not run the service; its output:\n{output}"
                );
            }
        }
    }
}
