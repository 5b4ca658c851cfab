//! The runtime project against tokio's current-thread runtime, on the same machine, in the
//! same process: spawn and join many tasks, a yield ping-pong, many timers, TCP echo on
//! loopback. Prints the median of several runs for each, and the ratio ours / tokio.

use std::time::{Duration, Instant};

const RUNS: usize = 5;

fn measure(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    f(); // warm-up
    bench_harness::median((0..runs).map(|_| f()).collect())
}

fn report(name: &str, ours: Duration, peer: Duration) {
    println!(
        "{name:<28} ours {:>9.2} ms   tokio {:>9.2} ms   ratio {:>5.2}",
        ours.as_secs_f64() * 1e3,
        peer.as_secs_f64() * 1e3,
        bench_harness::ratio(ours, peer)
    );
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

// ---------------------------------------------------------------- spawn and join

const SPAWNS: u64 = 100_000;

fn spawn_ours() -> Duration {
    let rt = runtime::s09_net::Runtime::new();
    let start = Instant::now();
    let sum = rt.block_on(async {
        let handles: Vec<_> = (0..SPAWNS)
            .map(|i| runtime::s09_net::spawn(async move { i }))
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    let elapsed = start.elapsed();
    assert_eq!(sum, SPAWNS * (SPAWNS - 1) / 2);
    elapsed
}

fn spawn_tokio() -> Duration {
    let rt = tokio_rt();
    let start = Instant::now();
    let sum = rt.block_on(async {
        let handles: Vec<_> = (0..SPAWNS)
            .map(|i| tokio::spawn(async move { i }))
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    let elapsed = start.elapsed();
    assert_eq!(sum, SPAWNS * (SPAWNS - 1) / 2);
    elapsed
}

// ---------------------------------------------------------------- yield ping-pong

const YIELDS: u32 = 200_000;

fn yield_ours() -> Duration {
    let rt = runtime::s09_net::Runtime::new();
    let start = Instant::now();
    rt.block_on(async {
        let a = runtime::s09_net::spawn(async {
            for _ in 0..YIELDS {
                runtime::s01_futures::YieldNow::new().await;
            }
        });
        let b = runtime::s09_net::spawn(async {
            for _ in 0..YIELDS {
                runtime::s01_futures::YieldNow::new().await;
            }
        });
        a.await.unwrap();
        b.await.unwrap();
    });
    start.elapsed()
}

fn yield_tokio() -> Duration {
    let rt = tokio_rt();
    let start = Instant::now();
    rt.block_on(async {
        let a = tokio::spawn(async {
            for _ in 0..YIELDS {
                tokio::task::yield_now().await;
            }
        });
        let b = tokio::spawn(async {
            for _ in 0..YIELDS {
                tokio::task::yield_now().await;
            }
        });
        a.await.unwrap();
        b.await.unwrap();
    });
    start.elapsed()
}

// ---------------------------------------------------------------- timers

const TIMERS: u64 = 10_000;

fn timers_ours() -> Duration {
    let rt = runtime::s09_net::Runtime::new();
    let start = Instant::now();
    rt.block_on(async {
        let handles: Vec<_> = (0..TIMERS)
            .map(|i| {
                runtime::s09_net::spawn(async move {
                    runtime::s07_timers::sleep(Duration::from_millis(1 + i % 10)).await;
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    start.elapsed()
}

fn timers_tokio() -> Duration {
    let rt = tokio_rt();
    let start = Instant::now();
    rt.block_on(async {
        let handles: Vec<_> = (0..TIMERS)
            .map(|i| {
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(1 + i % 10)).await;
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    start.elapsed()
}

// ---------------------------------------------------------------- TCP echo

const CLIENTS: usize = 4;
const CHUNK: usize = 64 * 1024;
const ROUNDS: usize = 64; // per client: 4 MiB each way

fn echo_ours() -> Duration {
    use runtime::s09_net::{TcpListener, TcpStream, spawn};
    let rt = runtime::s09_net::Runtime::new();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            for _ in 0..CLIENTS {
                let (mut s, _) = listener.accept().await.unwrap();
                spawn(async move {
                    let mut buf = vec![0u8; CHUNK];
                    loop {
                        let n = s.read(&mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        s.write_all(&buf[..n]).await.unwrap();
                    }
                });
            }
        });
        let start = Instant::now();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                spawn(async move {
                    let mut s = TcpStream::connect(addr).await.unwrap();
                    let data = vec![7u8; CHUNK];
                    let mut buf = vec![0u8; CHUNK];
                    for _ in 0..ROUNDS {
                        s.write_all(&data).await.unwrap();
                        let mut got = 0;
                        while got < CHUNK {
                            got += s.read(&mut buf[got..]).await.unwrap();
                        }
                    }
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
        let elapsed = start.elapsed();
        server.await.unwrap();
        elapsed
    })
}

fn echo_tokio() -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    let rt = tokio_rt();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            for _ in 0..CLIENTS {
                let (mut s, _) = listener.accept().await.unwrap();
                s.set_nodelay(true).unwrap();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; CHUNK];
                    loop {
                        let n = s.read(&mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        s.write_all(&buf[..n]).await.unwrap();
                    }
                });
            }
        });
        let start = Instant::now();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                tokio::spawn(async move {
                    let mut s = TcpStream::connect(addr).await.unwrap();
                    s.set_nodelay(true).unwrap();
                    let data = vec![7u8; CHUNK];
                    let mut buf = vec![0u8; CHUNK];
                    for _ in 0..ROUNDS {
                        s.write_all(&data).await.unwrap();
                        let mut got = 0;
                        while got < CHUNK {
                            got += s.read(&mut buf[got..]).await.unwrap();
                        }
                    }
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
        let elapsed = start.elapsed();
        server.await.unwrap();
        elapsed
    })
}

fn main() {
    println!("runtime vs tokio current_thread (median of {RUNS} runs)");
    report(
        "spawn+join 100k tasks",
        measure(RUNS, spawn_ours),
        measure(RUNS, spawn_tokio),
    );
    report(
        "yield ping-pong 2x200k",
        measure(RUNS, yield_ours),
        measure(RUNS, yield_tokio),
    );
    report(
        "10k timers (1-10 ms)",
        measure(RUNS, timers_ours),
        measure(RUNS, timers_tokio),
    );
    report(
        "tcp echo 4x4 MiB",
        measure(RUNS, echo_ours),
        measure(RUNS, echo_tokio),
    );
}
