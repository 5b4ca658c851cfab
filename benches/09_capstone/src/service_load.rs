//! `service_load`: stage 4's HTTP/1.1 JSON service under load, against the same service on
//! tokio + serde_json.
//!
//! Both servers run in this process, each on its own thread with a single-threaded runtime: the
//! capstone's `Server` on project 7's `Runtime` (its reactor is single-threaded), and
//! [`tokio_server`] on tokio's `current_thread` runtime, so that like is compared with like. The
//! tokio side is hand-written HTTP/1.1 over tokio's `TcpStream` (no hyper): the same routes, the
//! same statuses, headers and JSON bodies, `Content-Length` framing and pipelining, so the
//! comparison is about the runtime and the JSON library, not an HTTP library.
//!
//! The load generator is `CONNECTIONS` std threads, each with one blocking keep-alive
//! `std::net::TcpStream`: POST an item, GET it, DELETE it, again, until `MAX_REQUESTS` requests
//! in all or `TIME_LIMIT`, whichever comes first. Every response is checked (status, and the
//! body parses as the item it should be), and every request's latency (write to last byte of
//! the response) is recorded. Every wait is bounded: connect, read and write time out after
//! `IO_LIMIT`, a server that does not bind or stop in time is reported, and the runs go on.

use capstone::s04_service::{Server, Shutdown};
use runtime::s09_net::Runtime;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// Keep-alive connections, one client thread each.
const CONNECTIONS: usize = 64;
/// A run ends after this many requests in all ...
const MAX_REQUESTS: usize = 400_000;
/// ... or after this long, whichever comes first.
const TIME_LIMIT: Duration = Duration::from_secs(2);
/// A first, shorter run against each server, not measured.
const WARM_UP: Duration = Duration::from_millis(500);
/// Runs per server, in turn; the medians are reported.
const RUNS: usize = 3;
/// The longest any one connect, read or write may wait.
const IO_LIMIT: Duration = Duration::from_secs(5);

/// A server running on its own thread.
struct Running {
    addr: SocketAddr,
    stop: Box<dyn FnOnce()>,
    thread: thread::JoinHandle<Result<(), String>>,
}

/// Runs `serve` on a new thread; it sends its address once bound.
fn start(
    serve: impl FnOnce(mpsc::Sender<SocketAddr>) -> Result<(), String> + Send + 'static,
    stop: Box<dyn FnOnce()>,
) -> Result<Running, String> {
    let (tx, rx) = mpsc::channel();
    let thread = thread::spawn(move || serve(tx));
    match rx.recv_timeout(IO_LIMIT) {
        Ok(addr) => Ok(Running { addr, stop, thread }),
        Err(mpsc::RecvTimeoutError::Timeout) => Err("the server did not bind in 5 s".into()),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(match thread.join() {
            Ok(Err(e)) => format!("the server failed: {e}"),
            Ok(Ok(())) => "the server returned before binding".into(),
            Err(panic) => format!("the server panicked: {}", panic_message(&panic)),
        }),
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

impl Running {
    /// Signals the server and waits (bounded) for its thread; a problem is returned.
    fn stop(self) -> Option<String> {
        (self.stop)();
        let deadline = Instant::now() + IO_LIMIT;
        while !self.thread.is_finished() {
            if Instant::now() > deadline {
                return Some("did not stop within 5 s of the shutdown signal".into());
            }
            thread::sleep(Duration::from_millis(10));
        }
        match self.thread.join() {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("serve returned an error: {e}")),
            Err(panic) => Some(format!("the server panicked: {}", panic_message(&panic))),
        }
    }
}

fn start_ours() -> Result<Running, String> {
    let shutdown = Shutdown::new();
    let signal = shutdown.clone();
    start(
        move |tx| {
            Runtime::new()
                .block_on(async move {
                    let server = Server::bind("127.0.0.1:0")?;
                    let _ = tx.send(server.local_addr()?);
                    server.serve(signal).await
                })
                .map_err(|e| e.to_string())
        },
        Box::new(move || shutdown.trigger()),
    )
}

fn start_tokio() -> Result<Running, String> {
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    start(
        move |tx| tokio_server::serve(tx, stop_rx).map_err(|e| e.to_string()),
        Box::new(move || {
            let _ = stop_tx.send(());
        }),
    )
}

/// The item the service answers with, read by serde_json on both sides alike.
#[derive(serde::Deserialize)]
struct Item {
    id: u64,
    name: String,
}

/// One keep-alive connection of the load generator.
struct Client {
    reader: BufReader<TcpStream>,
    line: String,
    body: Vec<u8>,
}

impl Client {
    fn connect(addr: SocketAddr) -> io::Result<Client> {
        let stream = TcpStream::connect_timeout(&addr, IO_LIMIT)?;
        stream.set_read_timeout(Some(IO_LIMIT))?;
        stream.set_write_timeout(Some(IO_LIMIT))?;
        stream.set_nodelay(true)?;
        Ok(Client {
            reader: BufReader::new(stream),
            line: String::new(),
            body: Vec::new(),
        })
    }

    /// Sends one request and reads its response: the status, and the body in `self.body`.
    fn request(&mut self, bytes: &[u8]) -> Result<u16, String> {
        self.reader
            .get_mut()
            .write_all(bytes)
            .map_err(|e| format!("write: {e}"))?;
        self.line.clear();
        self.reader
            .read_line(&mut self.line)
            .map_err(|e| format!("read: {e}"))?;
        let status = self
            .line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| format!("not an HTTP/1.1 status line: {:?}", self.line))?;
        let mut length = None;
        loop {
            self.line.clear();
            let n = self
                .reader
                .read_line(&mut self.line)
                .map_err(|e| format!("read: {e}"))?;
            let header = self.line.trim_end();
            if n == 0 || header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let length = length.ok_or("a response without Content-Length")?;
        self.body.resize(length, 0);
        self.reader
            .read_exact(&mut self.body)
            .map_err(|e| format!("read body: {e}"))?;
        Ok(status)
    }

    /// `request`, then checks the status and that the body is the item called `name`.
    fn expect(&mut self, bytes: &[u8], status: u16, name: &str) -> Result<Item, String> {
        let got = self.request(bytes)?;
        let body = String::from_utf8_lossy(&self.body);
        if got != status {
            return Err(format!("status {got}, not {status}: {body}"));
        }
        let item: Item =
            serde_json::from_slice(&self.body).map_err(|e| format!("{e} in the body {body}"))?;
        if item.name != name {
            return Err(format!("the item {name} was answered with {body}"));
        }
        Ok(item)
    }
}

/// One connection's loop; returns every request's latency in nanoseconds.
fn drive(
    client: &mut Client,
    c: usize,
    budget: &AtomicUsize,
    deadline: Instant,
) -> Result<Vec<u64>, String> {
    let mut latencies = Vec::with_capacity(1024);
    let mut n = 0;
    while Instant::now() < deadline && budget.fetch_add(3, Ordering::Relaxed) + 3 <= MAX_REQUESTS {
        let name = format!("c{c}-{n}");
        let body = format!(r#"{{"name":"{name}","done":false}}"#);
        let post = format!(
            "POST /items HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let t = Instant::now();
        let item = client.expect(post.as_bytes(), 201, &name)?;
        latencies.push(t.elapsed().as_nanos() as u64);
        for method in ["GET", "DELETE"] {
            let request = format!(
                "{method} /items/{} HTTP/1.1\r\nHost: localhost\r\n\r\n",
                item.id
            );
            let t = Instant::now();
            let again = client.expect(request.as_bytes(), 200, &name)?;
            latencies.push(t.elapsed().as_nanos() as u64);
            if again.id != item.id {
                return Err(format!(
                    "{method} of item {} answered {}",
                    item.id, again.id
                ));
            }
        }
        n += 1;
    }
    Ok(latencies)
}

/// One of a run's measurements, in seconds or per second.
type Metric = fn(&Sample) -> f64;

/// One run's measurements.
#[derive(Clone, Copy)]
struct Sample {
    per_sec: f64,
    p50: Duration,
    p99: Duration,
    /// The fewest and the most requests one connection made: how evenly the server served.
    fewest: usize,
    most: usize,
}

/// One run of the load against `addr`.
fn run_load(addr: SocketAddr, limit: Duration) -> Result<Sample, String> {
    let budget = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(CONNECTIONS + 1));
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            let (budget, barrier) = (budget.clone(), barrier.clone());
            thread::spawn(move || {
                let client = Client::connect(addr);
                // Everyone meets here, connected or not, so the barrier never hangs.
                barrier.wait();
                let mut client = client.map_err(|e| format!("connect: {e}"))?;
                drive(&mut client, c, &budget, Instant::now() + limit)
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let mut latencies = Vec::new();
    let (mut fewest, mut most) = (usize::MAX, 0);
    let mut failed = None;
    for (c, client) in clients.into_iter().enumerate() {
        match client.join() {
            Ok(Ok(l)) => {
                fewest = fewest.min(l.len());
                most = most.max(l.len());
                latencies.extend(l);
            }
            Ok(Err(e)) => failed = failed.or(Some(format!("connection {c}: {e}"))),
            Err(panic) => failed = failed.or(Some(panic_message(&panic))),
        }
    }
    let elapsed = start.elapsed();
    if let Some(why) = failed {
        return Err(why);
    }
    if latencies.is_empty() {
        return Err("no request was answered".into());
    }
    latencies.sort_unstable();
    let at = |q: f64| {
        Duration::from_nanos(latencies[((latencies.len() - 1) as f64 * q).round() as usize])
    };
    Ok(Sample {
        per_sec: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        fewest,
        most,
    })
}

/// Starts both servers, runs the load against each in turn, prints the medians, stops them.
pub fn report() {
    println!();
    println!(
        "your service under load: {CONNECTIONS} keep-alive connections, POST+GET+DELETE, at most \
         {MAX_REQUESTS} requests or {} s a run; vs tokio current_thread + serde_json (median of \
         {RUNS} runs each)",
        TIME_LIMIT.as_secs()
    );
    let ours = start_ours();
    let tokio = start_tokio();
    let (ours, tokio) = match (ours, tokio) {
        (Ok(ours), Ok(tokio)) => (ours, tokio),
        (ours, tokio) => {
            for (side, server) in [("ours", ours), ("tokio", tokio)] {
                match server {
                    Err(why) => println!("  {side}: {why}"),
                    Ok(server) => {
                        if let Some(why) = server.stop() {
                            println!("  {side}: {why}");
                        }
                    }
                }
            }
            return;
        }
    };
    let (mut ours_runs, mut tokio_runs) = (Vec::new(), Vec::new());
    let mut failed = None;
    let warm_up = [("ours", &ours), ("tokio", &tokio)]
        .into_iter()
        .find_map(|(side, server)| {
            Some(format!("{side}: {}", run_load(server.addr, WARM_UP).err()?))
        });
    // A side that fails its warm-up is not measured.
    let runs = if warm_up.is_some() { 0 } else { RUNS };
    for _ in 0..runs {
        match run_load(ours.addr, TIME_LIMIT) {
            Ok(s) => ours_runs.push(s),
            Err(why) => {
                failed = Some(format!("ours: {why}"));
                break;
            }
        }
        match run_load(tokio.addr, TIME_LIMIT) {
            Ok(s) => tokio_runs.push(s),
            Err(why) => {
                failed = Some(format!("tokio: {why}"));
                break;
            }
        }
    }
    if let Some(why) = warm_up.or(failed) {
        println!("  {why}");
    }
    if !ours_runs.is_empty() && !tokio_runs.is_empty() {
        let med = |runs: &[Sample], f: Metric| bench_harness::median(runs.iter().map(f).collect());
        let (o, t) = (
            med(&ours_runs, |s| s.per_sec),
            med(&tokio_runs, |s| s.per_sec),
        );
        println!(
            "  {:<26} ours {:>9.0} /s    tokio {:>9.0} /s    ratio {:>5.2}",
            "requests per second",
            o,
            t,
            o / t
        );
        let lines: [(&str, Metric); 2] = [
            ("p50 latency", |s| s.p50.as_secs_f64()),
            ("p99 latency", |s| s.p99.as_secs_f64()),
        ];
        for (name, f) in lines {
            let (o, t) = (med(&ours_runs, f), med(&tokio_runs, f));
            println!(
                "  {name:<26} ours {:>9.1} us   tokio {:>9.1} us   ratio {:>5.2}",
                o * 1e6,
                t * 1e6,
                o / t
            );
        }
        let (o, t) = (
            med(&ours_runs, |s| s.fewest as f64),
            med(&tokio_runs, |s| s.fewest as f64),
        );
        let (om, tm) = (
            med(&ours_runs, |s| s.most as f64),
            med(&tokio_runs, |s| s.most as f64),
        );
        println!(
            "  {:<26} ours {o:.0} to {om:.0}, tokio {t:.0} to {tm:.0}",
            "requests of one connection"
        );
    }
    for (side, server) in [("ours", ours), ("tokio", tokio)] {
        if let Some(why) = server.stop() {
            println!("  {side}: {why}");
        }
    }
}

/// The same service on tokio's `current_thread` runtime, with serde_json, and a minimal
/// hand-written HTTP/1.1: `Content-Length` bodies only, keep-alive and pipelining, the same
/// limits, statuses and JSON bodies as stage 4's service.
mod tokio_server {
    use serde::{Deserialize, Serialize};
    use std::collections::BTreeMap;
    use std::io;
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex, mpsc};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::oneshot;

    const MAX_HEAD: usize = 8 * 1024;
    const MAX_BODY: usize = 64 * 1024;

    #[derive(Deserialize)]
    struct NewItem {
        name: String,
        #[serde(default)]
        done: bool,
    }

    #[derive(Clone, Serialize)]
    struct Item {
        id: u64,
        name: String,
        done: bool,
    }

    #[derive(Default)]
    struct Store {
        next_id: u64,
        items: BTreeMap<u64, Item>,
    }

    #[derive(Serialize)]
    struct ErrorBody<'a> {
        error: &'a str,
    }

    struct Request {
        method: String,
        path: String,
        body: Vec<u8>,
        keep_alive: bool,
    }

    /// Binds 127.0.0.1:0, sends the address, serves until `stop`.
    pub fn serve(addr: mpsc::Sender<SocketAddr>, stop: oneshot::Receiver<()>) -> io::Result<()> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let _ = addr.send(listener.local_addr()?);
            let store = Arc::new(Mutex::new(Store::default()));
            let mut stop = stop;
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let (stream, _) = accepted?;
                        stream.set_nodelay(true)?;
                        tokio::spawn(connection(stream, store.clone()));
                    }
                    _ = &mut stop => return Ok(()),
                }
            }
        })
    }

    async fn connection(mut stream: TcpStream, store: Arc<Mutex<Store>>) -> io::Result<()> {
        let mut buf = Vec::new();
        let mut out = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let mut close = false;
            while !close {
                match parse(&buf) {
                    Ok(Some((request, used))) => {
                        buf.drain(..used);
                        close = !request.keep_alive;
                        let (status, body) = route(&store, &request);
                        write(&mut out, status, &body, close);
                    }
                    Ok(None) => break,
                    Err((status, message)) => {
                        close = true;
                        write(&mut out, status, &error(message), true);
                    }
                }
            }
            stream.write_all(&out).await?;
            out.clear();
            if close {
                return Ok(());
            }
            let read = stream.read(&mut chunk).await?;
            if read == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..read]);
        }
    }

    type Refused = (u16, &'static str);

    /// The first request in `buf`, and the bytes it took; `None` while incomplete.
    fn parse(buf: &[u8]) -> Result<Option<(Request, usize)>, Refused> {
        let window = &buf[..buf.len().min(MAX_HEAD)];
        let Some(at) = window.windows(4).position(|w| w == b"\r\n\r\n") else {
            return if buf.len() >= MAX_HEAD {
                Err((431, "request head too large"))
            } else {
                Ok(None)
            };
        };
        let head =
            std::str::from_utf8(&buf[..at]).map_err(|_| (400, "request head is not UTF-8"))?;
        let mut lines = head.split("\r\n");
        let bad_line = (400, "malformed request line");
        let mut parts = lines.next().unwrap_or("").split(' ');
        let (Some(method), Some(path), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad_line);
        };
        let http10 = match version {
            "HTTP/1.1" => false,
            "HTTP/1.0" => true,
            v if v.starts_with("HTTP/") => return Err((505, "HTTP version not supported")),
            _ => return Err(bad_line),
        };
        let (mut length, mut close, mut keep) = (None, false, false);
        for line in lines {
            let (name, value) = line.split_once(':').ok_or((400, "malformed header line"))?;
            let value = value.trim_matches([' ', '\t']);
            if name.eq_ignore_ascii_case("content-length") {
                if length.is_some() {
                    return Err((400, "more than one Content-Length"));
                }
                if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err((400, "Content-Length is not a number"));
                }
                length = Some(value.parse::<usize>().unwrap_or(usize::MAX));
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err((501, "Transfer-Encoding is not supported"));
            } else if name.eq_ignore_ascii_case("connection") {
                for token in value.split(',') {
                    close |= token.trim().eq_ignore_ascii_case("close");
                    keep |= token.trim().eq_ignore_ascii_case("keep-alive");
                }
            }
        }
        let length = length.unwrap_or(0);
        if length > MAX_BODY {
            return Err((413, "request body too large"));
        }
        let end = at + 4 + length;
        if buf.len() < end {
            return Ok(None);
        }
        let request = Request {
            method: method.to_owned(),
            path: path.to_owned(),
            body: buf[at + 4..end].to_vec(),
            keep_alive: if http10 { keep } else { !close },
        };
        Ok(Some((request, end)))
    }

    fn error(message: &str) -> String {
        serde_json::to_string(&ErrorBody { error: message }).unwrap_or_default()
    }

    fn json<T: Serialize>(status: u16, value: &T) -> (u16, String) {
        match serde_json::to_string(value) {
            Ok(body) => (status, body),
            Err(_) => (500, error("the response could not be serialized")),
        }
    }

    fn route(store: &Mutex<Store>, request: &Request) -> (u16, String) {
        let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
        let method = request.method.as_str();
        match request.path.as_str() {
            "/items" => match method {
                "GET" => json(200, &store.items.values().collect::<Vec<_>>()),
                "POST" => match serde_json::from_slice::<NewItem>(&request.body) {
                    Ok(new) => {
                        store.next_id += 1;
                        let item = Item {
                            id: store.next_id,
                            name: new.name,
                            done: new.done,
                        };
                        store.items.insert(item.id, item.clone());
                        json(201, &item)
                    }
                    Err(e) => (400, error(&format!("invalid item: {e}"))),
                },
                _ => (405, error("use GET or POST on /items")),
            },
            path => {
                let Some(id) = path
                    .strip_prefix("/items/")
                    .and_then(|id| id.parse::<u64>().ok())
                else {
                    return (404, error("no such path"));
                };
                let found = match method {
                    "GET" => store.items.get(&id).cloned(),
                    "DELETE" => store.items.remove(&id),
                    _ => return (405, error("use GET or DELETE on /items/{id}")),
                };
                match found {
                    Some(item) => json(200, &item),
                    None => (404, error("no such item")),
                }
            }
        }
    }

    fn write(out: &mut Vec<u8>, status: u16, body: &str, close: bool) {
        // The same reason phrases as ours: the comparison is not about them.
        let reason = capstone::s04_service::reason(status);
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{}\r\n",
            body.len(),
            if close { "Connection: close\r\n" } else { "" },
        );
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(body.as_bytes());
    }
}
