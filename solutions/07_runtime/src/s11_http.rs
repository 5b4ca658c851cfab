//! # Finale: an async HTTP client
//!
//! Everything comes together: a task connects a [`TcpStream`](crate::s09_net::TcpStream),
//! writes a request, and reads the response while the runtime serves other tasks, sleeps until
//! timers are due, and parks in the poller when nothing is ready. Build [`http_get`], a small
//! HTTP/1.1 client:
//!
//! - Parse `http://host[:port][/path]` ([`Url::parse`]); anything else is
//!   [`Error::InvalidUrl`]. No `https`: TLS is a project of its own.
//! - Send `GET {path} HTTP/1.1` with a `Host` header and `Connection: close`.
//! - Read until the end of the headers (`\r\n\r\n`), parse the status line and the headers.
//!   With a `Content-Length`, read exactly that many body bytes; without one, read to the end
//!   of the stream. A `Transfer-Encoding` other than `identity` (`chunked`, say) is
//!   [`Error::BadResponse`], and so are headers that have not ended after 64 KiB: a server must
//!   not make the client buffer without limit.
//! - A status other than 2xx is [`Error::Status`]; a body that is not UTF-8 is
//!   [`Error::BadResponse`]; socket errors are [`Error::Io`], so `?` works on both.
//!
//! The capstone test is the course's example, run against a server on 127.0.0.1:
//!
//! ```no_run
//! use runtime::s09_net::Runtime;
//! use runtime::s11_http::{http_get, Error};
//!
//! async fn fetch_data(url: &str) -> Result<String, Error> {
//!     let response = http_get(url).await?;
//!     Ok(response)
//! }
//!
//! let runtime = Runtime::new();
//! let body = runtime.block_on(async { fetch_data("http://127.0.0.1:8080/").await });
//! ```
//!
//! After this stage you have used every piece: `async fn` state machines holding buffers across
//! `.await`, tasks, wakers, timers and readiness-based I/O, and you can say what each one
//! costs and what happens, step by step, between `http_get(url).await` and the body arriving.
//!
//! Read: RFC 9112, "HTTP/1.1", sections 2 to 6 (<https://www.rfc-editor.org/rfc/rfc9112>);
//! Programming Rust, chapter 20, "An Asynchronous HTTP Client"; then the tokio source, starting
//! at `tokio/src/runtime/scheduler/current_thread`.

use crate::s09_net::TcpStream;
use std::fmt;
use std::io;

/// What can go wrong in [`http_get`].
#[derive(Debug)]
pub enum Error {
    /// Not an `http://host[:port][/path]` URL.
    InvalidUrl(String),
    /// Connecting, writing or reading failed.
    Io(io::Error),
    /// The server's answer is not HTTP/1.x as this client understands it.
    BadResponse(String),
    /// The server answered with a status other than 2xx; the body is kept.
    Status(u16, String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUrl(url) => write!(f, "invalid URL: {url}"),
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::BadResponse(why) => write!(f, "bad HTTP response: {why}"),
            Error::Status(code, _) => write!(f, "HTTP status {code}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

/// The parts of an `http://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url<'a> {
    /// Host name or address, without the port.
    pub host: &'a str,
    /// The port, 80 if none is given.
    pub port: u16,
    /// The path and query, `/` if none is given.
    pub path: &'a str,
}

impl<'a> Url<'a> {
    /// Splits `http://host[:port][/path]`.
    pub fn parse(url: &'a str) -> Result<Url<'a>, Error> {
        let invalid = || Error::InvalidUrl(url.to_owned());
        let rest = url.strip_prefix("http://").ok_or_else(invalid)?;
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().map_err(|_| invalid())?),
            None => (authority, 80),
        };
        if host.is_empty() {
            return Err(invalid());
        }
        Ok(Url { host, port, path })
    }
}

/// Fetches `url` with a `GET` and returns the body of a 2xx response.
pub async fn http_get(url: &str) -> Result<String, Error> {
    let url = Url::parse(url)?;
    let mut stream = TcpStream::connect((url.host, url.port)).await?;
    let host = if url.port == 80 {
        url.host.to_owned()
    } else {
        format!("{}:{}", url.host, url.port)
    };
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: runtime/0.1\r\nAccept: */*\r\n\
         Connection: close\r\n\r\n",
        url.path
    );
    stream.write_all(request.as_bytes()).await?;

    // Read until the end of the headers.
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return Err(Error::BadResponse("headers larger than 64 KiB".into()));
        }
        match stream.read(&mut chunk).await? {
            0 => {
                return Err(Error::BadResponse(
                    "connection closed before the headers ended".into(),
                ));
            }
            n => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = std::str::from_utf8(&buf[..header_end])
        .map_err(|_| Error::BadResponse("headers are not UTF-8".into()))?;
    let mut lines = head.split("\r\n");
    let status = parse_status(lines.next().unwrap_or_default())?;
    let mut content_length = None;
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| Error::BadResponse(format!("malformed header line {line:?}")))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let len = value
                .parse::<usize>()
                .map_err(|_| Error::BadResponse(format!("bad Content-Length {value:?}")))?;
            content_length = Some(len);
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            && !value.eq_ignore_ascii_case("identity")
        {
            return Err(Error::BadResponse(format!(
                "unsupported Transfer-Encoding {value:?}"
            )));
        }
    }

    let mut body = buf.split_off(header_end);
    match content_length {
        Some(len) => {
            while body.len() < len {
                match stream.read(&mut chunk).await? {
                    0 => {
                        return Err(Error::BadResponse(
                            "body shorter than Content-Length".into(),
                        ));
                    }
                    n => body.extend_from_slice(&chunk[..n]),
                }
            }
            body.truncate(len);
        }
        None => {
            stream.read_to_end(&mut body).await?;
        }
    }
    let body =
        String::from_utf8(body).map_err(|_| Error::BadResponse("body is not UTF-8".into()))?;
    if (200..300).contains(&status) {
        Ok(body)
    } else {
        Err(Error::Status(status, body))
    }
}

/// The status code of an `HTTP/1.x NNN reason` line.
fn parse_status(line: &str) -> Result<u16, Error> {
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") || code.len() != 3 {
        return Err(Error::BadResponse(format!("bad status line {line:?}")));
    }
    code.parse()
        .map_err(|_| Error::BadResponse(format!("bad status code {code:?}")))
}

/// The index of the first occurrence of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s07_timers::sleep;
    use crate::s09_net::{Runtime, TcpListener, spawn};
    use crate::util::watchdog;
    use std::io::{Read, Write};
    use std::net::SocketAddr;
    use std::time::{Duration, Instant};

    const LIMIT: Duration = Duration::from_secs(20);

    /// A blocking server on 127.0.0.1 that answers one connection with `response` and returns
    /// the request it read. Gives up after a few seconds.
    fn serve_once(response: &'static [u8]) -> (SocketAddr, std::thread::JoinHandle<String>) {
        serve(response, false)
    }

    /// `serve_once`, and with `keep_open`, the connection stays open after the response until
    /// the client closes it (or a few seconds pass).
    fn serve(
        response: &'static [u8],
        keep_open: bool,
    ) -> (SocketAddr, std::thread::JoinHandle<String>) {
        serve_with(move |stream| {
            stream.write_all(response).unwrap();
            if keep_open {
                let _ = stream.read(&mut [0u8; 1024]); // returns when the client closes
            }
        })
    }

    /// A blocking server on 127.0.0.1 that reads one request and lets `respond` answer it;
    /// returns the request.
    fn serve_with(
        respond: impl FnOnce(&mut std::net::TcpStream) + Send + 'static,
    ) -> (SocketAddr, std::thread::JoinHandle<String>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let handle = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut stream = loop {
                match listener.accept() {
                    Ok((stream, _)) => break stream,
                    Err(_) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(2))
                    }
                    Err(e) => panic!("no client came: {e}"),
                }
            };
            stream.set_nonblocking(false).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while find(&request, b"\r\n\r\n").is_none() {
                let n = stream.read(&mut buf).unwrap();
                assert!(n > 0, "client closed before finishing its request");
                request.extend_from_slice(&buf[..n]);
            }
            respond(&mut stream);
            String::from_utf8(request).unwrap()
        });
        (addr, handle)
    }

    async fn fetch_data(url: &str) -> Result<String, Error> {
        let response = http_get(url).await?;
        Ok(response)
    }

    #[test]
    fn urls_are_split_into_host_port_and_path() {
        assert_eq!(
            Url::parse("http://127.0.0.1:8080/a/b?c=d").unwrap(),
            Url {
                host: "127.0.0.1",
                port: 8080,
                path: "/a/b?c=d"
            }
        );
        assert_eq!(
            Url::parse("http://example.com").unwrap(),
            Url {
                host: "example.com",
                port: 80,
                path: "/"
            }
        );
        for bad in [
            "https://x/",
            "ftp://x",
            "http://",
            "http://x:port/",
            "127.0.0.1:80",
        ] {
            assert!(
                matches!(Url::parse(bad), Err(Error::InvalidUrl(_))),
                "{bad} is invalid"
            );
        }
    }

    #[test]
    // Miri: real TCP sockets, and the runtime's poller calls timerfd_create: Miri supports neither
    #[cfg_attr(miri, ignore)]
    fn the_course_example_fetches_from_a_local_server() {
        let (addr, server) =
            serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!");
        let url = format!("http://{addr}/greeting");
        let body = watchdog(LIMIT, move || {
            let runtime = Runtime::new();
            runtime.block_on(async { fetch_data(&url).await })
        });
        assert_eq!(body.unwrap(), "Hello, world!");
        let request = server.join().unwrap();
        assert!(
            request.starts_with("GET /greeting HTTP/1.1\r\n"),
            "the request line names the path: {request:?}"
        );
        assert!(
            request.contains(&format!("Host: {addr}\r\n")),
            "a Host header: {request:?}"
        );
    }

    #[test]
    // Miri: real TCP sockets, and the runtime's poller calls timerfd_create: Miri supports neither
    #[cfg_attr(miri, ignore)]
    fn content_length_ends_the_body_while_the_connection_stays_open() {
        // A server that ignores `Connection: close`: it answers, then keeps the connection open
        // until the client closes it. Header names are case-insensitive.
        let (addr, server) = serve(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", true);
        let url = format!("http://{addr}/");
        let result = watchdog(LIMIT, move || {
            Runtime::new().block_on(async {
                crate::s07_timers::timeout(Duration::from_secs(2), http_get(&url)).await
            })
        });
        let body = result.expect(
            "the body ends after Content-Length bytes (a header name in any case): reading to the \
             end of the stream waits as long as the server keeps the connection open",
        );
        assert_eq!(body.unwrap(), "ok");
        server.join().unwrap();
    }

    #[test]
    // Miri: real TCP sockets, and the runtime's poller calls timerfd_create: Miri supports neither
    #[cfg_attr(miri, ignore)]
    fn a_body_without_content_length_is_read_to_the_end() {
        let (addr, server) = serve_once(b"HTTP/1.0 200 OK\r\nX-Thing: yes\r\n\r\nuntil the end");
        let url = format!("http://{addr}/");
        let body = watchdog(LIMIT, move || {
            Runtime::new().block_on(async { http_get(&url).await })
        });
        assert_eq!(body.unwrap(), "until the end");
        server.join().unwrap();
    }

    #[test]
    fn errors_say_what_went_wrong_and_keep_their_io_source() {
        use std::error::Error as _;
        let io = Error::from(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "reset by peer",
        ));
        assert_eq!(io.to_string(), "I/O error: reset by peer");
        assert!(
            io.source().is_some(),
            "an Error::Io's source is the io::Error it wraps"
        );
        for (error, shown) in [
            (Error::InvalidUrl("ftp://x".into()), "invalid URL: ftp://x"),
            (Error::BadResponse("why".into()), "bad HTTP response: why"),
            (Error::Status(404, "nope".into()), "HTTP status 404"),
        ] {
            assert_eq!(error.to_string(), shown);
            assert!(error.source().is_none(), "{shown}: no underlying error");
        }
    }

    #[test]
    fn status_lines_need_http_1_x_and_a_three_digit_code() {
        for (line, code) in [
            ("HTTP/1.1 200 OK", 200),
            ("HTTP/1.0 404 Not Found", 404),
            ("HTTP/1.1 204", 204),
        ] {
            assert_eq!(
                parse_status(line).ok(),
                Some(code),
                "{line:?} has status {code}"
            );
        }
        for line in [
            "HTTP/2 200 OK",
            "HTTP/1.1 2000 OK",
            "HTTP/1.1 20 OK",
            "HTTP/1.1 2x0 OK",
            "SMTP/1.1 200 OK",
            "",
        ] {
            assert!(
                matches!(parse_status(line), Err(Error::BadResponse(_))),
                "{line:?} is not an HTTP/1.x status line with a three-digit code: BadResponse, \
                 whichever of the two is wrong"
            );
        }
    }

    #[test]
    // Miri: real TCP sockets, and the runtime's poller calls timerfd_create: Miri supports neither
    #[cfg_attr(miri, ignore)]
    fn long_headers_that_take_many_reads_are_accepted() {
        let mut response = b"HTTP/1.1 200 OK\r\nX-Padding: ".to_vec();
        response.extend(std::iter::repeat_n(b'a', 20_000));
        response.extend_from_slice(b"\r\nContent-Length: 2\r\n\r\nok");
        let (addr, server) = serve_with(move |stream| stream.write_all(&response).unwrap());
        let url = format!("http://{addr}/");
        let body = watchdog(LIMIT, move || {
            Runtime::new().block_on(async { http_get(&url).await })
        });
        assert_eq!(
            body.ok().as_deref(),
            Some("ok"),
            "20 KB of headers arrive in several reads and are within the 64 KiB limit"
        );
        server.join().unwrap();
    }

    #[test]
    // Miri: real TCP sockets, and the runtime's poller calls timerfd_create: Miri supports neither
    #[cfg_attr(miri, ignore)]
    fn headers_that_never_end_are_refused_after_64_kib() {
        let (addr, server) = serve_with(|stream| {
            // One byte first, so that the client's reads do not add up to round numbers.
            stream.write_all(b"H").unwrap();
            std::thread::sleep(Duration::from_millis(20));
            let mut rest = b"TTP/1.1 200 OK\r\nX-Padding: ".to_vec();
            rest.extend(std::iter::repeat_n(b'a', 200_000));
            let _ = stream.write_all(&rest); // the client may stop reading and close
            let _ = stream.read(&mut [0u8; 1024]); // keep it open until the client closes
        });
        let url = format!("http://{addr}/");
        let result = watchdog(LIMIT, move || {
            Runtime::new().block_on(async {
                crate::s07_timers::timeout(Duration::from_secs(5), http_get(&url)).await
            })
        });
        assert!(
            matches!(result, Ok(Err(Error::BadResponse(_)))),
            "headers that have not ended after 64 KiB are a BadResponse: a server must not make \
             the client buffer without limit; got {result:?}"
        );
        server.join().unwrap();
    }

    #[test]
    // Miri: real TCP sockets, and the runtime's poller calls timerfd_create: Miri supports neither
    #[cfg_attr(miri, ignore)]
    fn transfer_encoding_identity_is_accepted_and_chunked_is_refused() {
        let (addr, server) = serve_once(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 2\r\n\r\nok",
        );
        let url = format!("http://{addr}/");
        let body = watchdog(LIMIT, move || {
            Runtime::new().block_on(async { http_get(&url).await })
        });
        assert_eq!(
            body.ok().as_deref(),
            Some("ok"),
            "`Transfer-Encoding: identity` is the plain body this client reads"
        );
        server.join().unwrap();

        let (addr, server) = serve_once(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        );
        let url = format!("http://{addr}/");
        let result = watchdog(LIMIT, move || {
            Runtime::new().block_on(async { http_get(&url).await })
        });
        assert!(
            matches!(result, Err(Error::BadResponse(_))),
            "`Transfer-Encoding: chunked` is not supported here: BadResponse; got {result:?}"
        );
        server.join().unwrap();
    }

    #[test]
    // Miri: real TCP sockets, and the runtime's poller calls timerfd_create: Miri supports neither
    #[cfg_attr(miri, ignore)]
    fn a_404_is_an_error_with_the_body() {
        let (addr, server) = serve_once(b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope");
        let url = format!("http://{addr}/missing");
        let result = watchdog(LIMIT, move || {
            Runtime::new().block_on(async { http_get(&url).await })
        });
        match result {
            Err(Error::Status(404, body)) => assert_eq!(body, "nope"),
            other => panic!("a 404 must be Error::Status(404, body), got {other:?}"),
        }
        server.join().unwrap();
    }

    #[test]
    // Miri: real TCP sockets, and the runtime's poller calls timerfd_create: Miri supports neither
    #[cfg_attr(miri, ignore)]
    fn garbage_is_a_bad_response() {
        let (addr, server) = serve_once(b"SMTP ready\r\n\r\n");
        let url = format!("http://{addr}/");
        let result = watchdog(LIMIT, move || {
            Runtime::new().block_on(async { http_get(&url).await })
        });
        assert!(
            matches!(result, Err(Error::BadResponse(_))),
            "got {result:?}"
        );
        server.join().unwrap();
    }

    #[test]
    // Miri: real TCP sockets, and the runtime's poller calls timerfd_create: Miri supports neither
    #[cfg_attr(miri, ignore)]
    fn a_refused_connection_is_an_io_error() {
        // Bind and drop at once: nobody listens on that port any more.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let url = format!("http://{addr}/");
        let result = watchdog(LIMIT, move || {
            Runtime::new().block_on(async { http_get(&url).await })
        });
        assert!(matches!(result, Err(Error::Io(_))), "got {result:?}");
    }

    #[test]
    // Miri: real TCP sockets, and the runtime's poller calls timerfd_create: Miri supports neither
    #[cfg_attr(miri, ignore)]
    fn twenty_concurrent_gets_against_a_slow_async_server() {
        const CLIENTS: usize = 20;
        let (bodies, elapsed) = watchdog(LIMIT, || {
            let runtime = Runtime::new();
            runtime.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                let server = spawn(async move {
                    for i in 0..CLIENTS {
                        let (mut stream, _) = listener.accept().await.unwrap();
                        spawn(async move {
                            let mut request = Vec::new();
                            let mut buf = [0u8; 1024];
                            while find(&request, b"\r\n\r\n").is_none() {
                                let n = stream.read(&mut buf).await.unwrap();
                                assert!(n > 0);
                                request.extend_from_slice(&buf[..n]);
                            }
                            let body = format!("response {i}");
                            let head = format!(
                                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                                body.len()
                            );
                            // Headers and body in separate writes, 50 ms apart.
                            stream.write_all(head.as_bytes()).await.unwrap();
                            sleep(Duration::from_millis(50)).await;
                            stream.write_all(body.as_bytes()).await.unwrap();
                        });
                    }
                });
                let start = Instant::now();
                let gets: Vec<_> = (0..CLIENTS)
                    .map(|_| spawn(async move { http_get(&format!("http://{addr}/")).await }))
                    .collect();
                let mut bodies = Vec::new();
                for get in gets {
                    bodies.push(get.await.unwrap().unwrap());
                }
                server.await.unwrap();
                (bodies, start.elapsed())
            })
        });
        bodies
            .iter()
            .for_each(|b| assert!(b.starts_with("response "), "got {b:?}"));
        let mut sorted = bodies.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), CLIENTS, "every client got its own response");
        assert!(
            elapsed < Duration::from_millis(50 * CLIENTS as u64 / 2),
            "{CLIENTS} requests of 50 ms each took {elapsed:?}: they must run concurrently"
        );
    }
}
