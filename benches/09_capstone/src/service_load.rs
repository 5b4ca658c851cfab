//! `service_load`: stage 4's HTTP/1.1 JSON service under load, against the same service on
//! tokio + serde_json, and on stage 3's allocator against the system allocator.
//!
//! Three servers, each on a single-threaded runtime: the capstone's `Server` on project 7's
//! `Runtime` (its reactor is single-threaded) twice, each in a child process of this binary
//! (`--service-program system|cached`, see [`child`]) whose global allocator is the system's or
//! stage 3's `CachedAlloc`; and [`tokio_server`] on tokio's `current_thread` runtime, on a
//! thread of this process, so that like is compared with like. The
//! tokio side is hand-written HTTP/1.1 over tokio's `TcpStream` (no hyper): the same routes, the
//! same statuses, headers and JSON bodies, `Content-Length` framing and pipelining, so the
//! comparison is about the runtime and the JSON library, not an HTTP library.
//!
//! The load generator is `CONNECTIONS` std threads, each with one blocking keep-alive
//! `std::net::TcpStream`: POST an item, GET it, DELETE it, again, until `MAX_REQUESTS` requests
//! in all or `TIME_LIMIT`, whichever comes first. Every response is checked (status, and the
//! body parses as the item it should be), and every request's latency (write to last byte of
//! the response) is recorded. Every wait is bounded: connect, read and write time out after
//! `IO_LIMIT`, a server that does not bind or stop in time is reported (a child is killed),
//! and the runs go on.
//!
//! [`soak`] (`CAPSTONE_BENCH_SOAK_SECS=N`) runs the same load for `N` seconds against the
//! service on `CachedAlloc` and counts what a client can see go wrong: requests lost, answered
//! twice, answered wrongly; then checks the store is empty, every POST had an id of its own,
//! and the server shuts down gracefully with its heap consistent.

use capstone::s04_service::{Server, Shutdown};
use runtime::s09_net::Runtime;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// Keep-alive connections, one client thread each.
const CONNECTIONS: usize = 64;
/// A run ends after this many requests in all ...
const MAX_REQUESTS: usize = 400_000;
/// ... or after this long, whichever comes first.
const TIME_LIMIT: Duration = Duration::from_millis(1500);
/// A first, shorter run against each server, not measured.
const WARM_UP: Duration = Duration::from_millis(300);
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
        // A child's waiter gives up (and kills it) after IO_LIMIT: wait a little longer.
        let deadline = Instant::now() + IO_LIMIT + Duration::from_secs(2);
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

/// Runs stage 4's service on `which` allocator (`system` or `cached`, see
/// `alloc_program::use_allocator`) in a child process of this binary, started by
/// [`start_child`] with `--service-program WHICH`: prints `addr ADDRESS` once bound, serves
/// until its stdin closes, then shuts down gracefully and checks its heap.
pub fn child(which: &str) {
    crate::alloc_program::use_allocator(which);
    let server = start_ours().unwrap_or_else(|why| {
        eprintln!("{why}");
        std::process::exit(1)
    });
    println!("addr {}", server.addr);
    let _ = io::stdin().read_to_end(&mut Vec::new());
    if let Some(why) = server.stop() {
        eprintln!("{why}");
        std::process::exit(1);
    }
    crate::alloc_program::check_heap();
}

/// Starts stage 4's service on `which` allocator in a child process (see [`child`]). Stopping
/// it closes the child's stdin; a child that does not exit within `IO_LIMIT` is killed.
fn start_child(which: &'static str) -> Result<Running, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut process = Command::new(exe)
        .args(["--service-program", which])
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("the child did not start: {e}"))?;
    let stdin = process.stdin.take().expect("piped");
    let stdout = process.stdout.take().expect("piped");
    let mut stderr = process.stderr.take().expect("piped");
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    start(
        move |tx| {
            let errors = thread::spawn(move || {
                let mut text = String::new();
                let _ = stderr.read_to_string(&mut text);
                text
            });
            let (addr_tx, addr_rx) = mpsc::channel();
            thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Some(addr) = line.strip_prefix("addr ") {
                        let _ = addr_tx.send(addr.parse::<SocketAddr>());
                    }
                }
            });
            let bound = addr_rx.recv_timeout(IO_LIMIT);
            if let Ok(Ok(addr)) = bound {
                let _ = tx.send(addr);
                // Until `stop` (or the `Running` is dropped).
                let _ = stop_rx.recv();
            }
            drop(stdin);
            let deadline = Instant::now() + IO_LIMIT;
            let status = loop {
                match process.try_wait() {
                    Ok(Some(status)) => break Some(status),
                    Ok(None) if Instant::now() < deadline => {
                        thread::sleep(Duration::from_millis(10));
                    }
                    _ => {
                        let _ = process.kill();
                        let _ = process.wait();
                        break None;
                    }
                }
            };
            let errors = errors.join().unwrap_or_default();
            let last: Vec<&str> = errors.lines().rev().take(6).collect();
            let last: Vec<&str> = last.into_iter().rev().collect();
            let last = last.join("\n    ");
            match status {
                Some(status) if status.success() => Ok(()),
                Some(status) => Err(format!("the child failed ({status}):\n    {last}")),
                None => Err(format!(
                    "the child did not exit within {} s and was killed:\n    {last}",
                    IO_LIMIT.as_secs()
                )),
            }
        },
        Box::new(move || {
            let _ = stop_tx.send(());
        }),
    )
}

/// Prints the medians of `a` and `b` side by side, with the ratio a / b.
fn compare(title: &str, (a_name, a): (&str, &[Sample]), (b_name, b): (&str, &[Sample])) {
    if a.is_empty() || b.is_empty() {
        return;
    }
    println!("  {title}");
    let med = |runs: &[Sample], f: Metric| bench_harness::median(runs.iter().map(f).collect());
    let (o, t) = (med(a, |s| s.per_sec), med(b, |s| s.per_sec));
    println!(
        "    {:<26} {a_name:<6} {o:>9.0} /s    {b_name:<6} {t:>9.0} /s    ratio {:>5.2}",
        "requests per second",
        o / t
    );
    let lines: [(&str, Metric); 2] = [
        ("p50 latency", |s| s.p50.as_secs_f64()),
        ("p99 latency", |s| s.p99.as_secs_f64()),
    ];
    for (name, f) in lines {
        let (o, t) = (med(a, f), med(b, f));
        println!(
            "    {name:<26} {a_name:<6} {:>9.1} us   {b_name:<6} {:>9.1} us   ratio {:>5.2}",
            o * 1e6,
            t * 1e6,
            o / t
        );
    }
    let (o, om) = (med(a, |s| s.fewest as f64), med(a, |s| s.most as f64));
    let (t, tm) = (med(b, |s| s.fewest as f64), med(b, |s| s.most as f64));
    println!(
        "    {:<26} {a_name} {o:.0} to {om:.0}, {b_name} {t:.0} to {tm:.0}",
        "requests of one connection"
    );
}

/// Starts the three servers (yours on the system allocator and on your `CachedAlloc`, each in
/// a child process, and tokio's in this one), runs the load against each in turn, prints the
/// medians, stops them.
pub fn report() {
    println!();
    println!(
        "your service under load: {CONNECTIONS} keep-alive connections, POST+GET+DELETE, at most \
         {MAX_REQUESTS} requests or {} s a run (median of {RUNS} runs each)",
        TIME_LIMIT.as_secs_f64()
    );
    let names = ["ours, system allocator", "ours, your CachedAlloc", "tokio"];
    let servers = [start_child("system"), start_child("cached"), start_tokio()];
    let mut failed: [Option<String>; 3] = Default::default();
    for (i, server) in servers.iter().enumerate() {
        // A side that fails to start or to warm up is not measured.
        failed[i] = match server {
            Ok(server) => run_load(server.addr, WARM_UP).err(),
            Err(why) => Some(why.clone()),
        };
    }
    let mut runs: [Vec<Sample>; 3] = Default::default();
    for _ in 0..RUNS {
        for (i, server) in servers.iter().enumerate() {
            if let (Ok(server), None) = (server, &failed[i]) {
                match run_load(server.addr, TIME_LIMIT) {
                    Ok(sample) => runs[i].push(sample),
                    Err(why) => failed[i] = Some(why),
                }
            }
        }
    }
    compare(
        "your service vs the same on tokio current_thread + serde_json (both on the system allocator):",
        ("ours", &runs[0]),
        ("tokio", &runs[2]),
    );
    compare(
        "your service on your CachedAlloc vs on the system allocator:",
        ("cached", &runs[1]),
        ("system", &runs[0]),
    );
    for (i, server) in servers.into_iter().enumerate() {
        let stopped = server.ok().and_then(Running::stop);
        if let Some(why) = failed[i].take().or(stopped) {
            println!("  {}: {why}", names[i]);
        }
    }
}

/// What one connection of the soak saw.
#[derive(Default)]
struct Tally {
    /// Requests written.
    sent: usize,
    /// Responses read that answered their request.
    answered: usize,
    /// Requests written whose response never came (a read that failed, timed out or ended).
    lost: usize,
    /// Responses that did not answer their request (wrong status or item, out of order).
    wrong: usize,
    /// Responses that repeated the one before instead of answering their request, and
    /// responses beyond the last request's, read after the server closed the connection.
    twice: usize,
    /// The last response read: its status and body.
    previous: (u16, Vec<u8>),
    /// The ids the connection's POSTs were given.
    ids: Vec<u64>,
    latencies: Vec<u64>,
    /// The first problem, if any.
    problem: Option<String>,
}

impl Tally {
    /// Sends `request` and checks its answer: `status`, and (if `name` is given) the item
    /// called `name`. `None`, with the problem counted, if it was lost or wrong.
    fn exchange(
        &mut self,
        client: &mut Client,
        request: &[u8],
        status: u16,
        name: Option<&str>,
    ) -> Option<u64> {
        self.sent += 1;
        let t = Instant::now();
        let got = match client.request(request) {
            Ok(got) => got,
            Err(why) => {
                self.lost += 1;
                self.problem.get_or_insert(why);
                return None;
            }
        };
        self.latencies.push(t.elapsed().as_nanos() as u64);
        let body = String::from_utf8_lossy(&client.body).into_owned();
        let repeated = (got, &client.body) == (self.previous.0, &self.previous.1);
        self.previous = (got, client.body.clone());
        let id = match name {
            None => Some(0),
            Some(name) => serde_json::from_slice::<Item>(&client.body)
                .ok()
                .filter(|item| item.name == name)
                .map(|item| item.id),
        };
        match id {
            Some(id) if got == status => {
                self.answered += 1;
                Some(id)
            }
            _ => {
                // The connection is out of step from here on: it ends.
                if repeated {
                    self.twice += 1;
                } else {
                    self.wrong += 1;
                }
                self.problem.get_or_insert(format!(
                    "a request that expected {status} {} was answered with {got} {body}{}",
                    name.unwrap_or(""),
                    if repeated {
                        " (the previous answer again)"
                    } else {
                        ""
                    }
                ));
                None
            }
        }
    }
}

/// One connection of the soak: POST, GET, DELETE until `deadline`; then a last request with
/// `Connection: close`, after which anything more the server sends was answered twice.
fn soak_connection(addr: SocketAddr, c: usize, deadline: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut client = match Client::connect(addr) {
        Ok(client) => client,
        Err(e) => {
            tally.problem = Some(format!("connect: {e}"));
            return tally;
        }
    };
    let mut n = 0;
    while Instant::now() < deadline {
        let name = format!("c{c}-{n}");
        let body = format!(r#"{{"name":"{name}","done":false}}"#);
        let post = format!(
            "POST /items HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let Some(id) = tally.exchange(&mut client, post.as_bytes(), 201, Some(&name)) else {
            return tally;
        };
        tally.ids.push(id);
        for method in ["GET", "DELETE"] {
            let request = format!("{method} /items/{id} HTTP/1.1\r\nHost: localhost\r\n\r\n");
            if tally
                .exchange(&mut client, request.as_bytes(), 200, Some(&name))
                .is_none()
            {
                return tally;
            }
        }
        n += 1;
    }
    let last = b"GET /items/0 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if tally.exchange(&mut client, last, 404, None).is_some() {
        let mut rest = Vec::new();
        match client.reader.read_to_end(&mut rest) {
            Ok(_) => {
                tally.twice += rest.windows(9).filter(|w| w == b"HTTP/1.1 ").count();
                if !rest.is_empty() && tally.twice == 0 {
                    tally.wrong += 1;
                }
            }
            Err(e) => {
                tally
                    .problem
                    .get_or_insert(format!("the connection did not close: {e}"));
            }
        }
    }
    tally
}

/// The soak: your service on your `CachedAlloc` (a child process), `CONNECTIONS` keep-alive
/// connections for `secs` seconds, every answer checked, then the store checked empty and the
/// server shut down. Returns whether everything held.
pub fn soak(secs: u64) -> bool {
    println!(
        "soak: your service on your CachedAlloc, {CONNECTIONS} keep-alive connections, \
         POST+GET+DELETE for {secs} s"
    );
    let server = match start_child("cached") {
        Ok(server) => server,
        Err(why) => {
            println!("  the server did not start: {why}");
            return false;
        }
    };
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let addr = server.addr;
    let tallies: Vec<Tally> = (0..CONNECTIONS)
        .map(|c| thread::spawn(move || soak_connection(addr, c, deadline)))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| {
            t.join().unwrap_or_else(|panic| Tally {
                problem: Some(panic_message(&panic)),
                ..Tally::default()
            })
        })
        .collect();
    let elapsed = start.elapsed();
    let sum = |f: fn(&Tally) -> usize| tallies.iter().map(f).sum::<usize>();
    let (sent, answered) = (sum(|t| t.sent), sum(|t| t.answered));
    let (lost, wrong, twice) = (sum(|t| t.lost), sum(|t| t.wrong), sum(|t| t.twice));
    let posted = sum(|t| t.ids.len());
    let distinct: std::collections::HashSet<u64> =
        tallies.iter().flat_map(|t| t.ids.iter().copied()).collect();
    let mut latencies: Vec<u64> = tallies.iter().flat_map(|t| t.latencies.clone()).collect();
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * q).round() as usize)
            .map_or(0.0, |&ns| ns as f64 / 1e3)
    };
    println!(
        "  {answered} of {sent} requests answered in {:.1} s ({:.0} /s), p50 {:.1} us, p99 {:.1} us",
        elapsed.as_secs_f64(),
        answered as f64 / elapsed.as_secs_f64(),
        at(0.5),
        at(0.99)
    );
    println!("  lost {lost}, answered twice {twice}, wrong answers {wrong}");
    let mut ok = lost == 0 && twice == 0 && wrong == 0 && sent == answered && sent > 0;
    for (c, tally) in tallies.iter().enumerate() {
        if let Some(problem) = &tally.problem {
            println!("  connection {c}: {problem}");
            ok = false;
        }
    }
    let left = Client::connect(addr)
        .map_err(|e| e.to_string())
        .and_then(|mut client| {
            client
                .request(b"GET /items HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
            Ok(String::from_utf8_lossy(&client.body).into_owned())
        });
    let empty = left.as_deref() == Ok("[]");
    println!(
        "  {posted} items posted, {} distinct ids; the store after the soak: {}",
        distinct.len(),
        match &left {
            Ok(body) if body.len() > 60 => format!("{}...", &body[..60]),
            Ok(body) => body.clone(),
            Err(e) => format!("not read ({e})"),
        }
    );
    ok &= empty && distinct.len() == posted;
    match server.stop() {
        None => println!(
            "  the server shut down gracefully, and the shared heap's invariants held after it"
        ),
        Some(why) => {
            println!("  the server: {why}");
            ok = false;
        }
    }
    println!(
        "  {}",
        if ok {
            "soak passed: nothing lost, nothing answered twice, every item deleted once"
        } else {
            "SOAK FAILED"
        }
    );
    ok
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
