//! Benchmarks the `json` crate against serde_json on three generated documents of about
//! 2 to 4 MB each: numbers-heavy (coordinates with 6 decimals, measurements with 2), strings-heavy (messages with
//! non-ASCII text and escapes), and object-heavy (a nested company directory). For each,
//! three workloads: parse into a DOM value, parse into typed structs, and write the structs.
//!
//! Prints one line per workload: name, our median, serde_json's median, and the ratio
//! (ours / serde_json; lower is better, 1.0 is parity).

use std::hint::black_box;
use std::time::Duration;

/// Runs of each workload; the median is reported.
const RUNS: usize = 9;

/// A small deterministic PRNG (xorshift64*), so every run benchmarks the same documents.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn float(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (self.next() >> 11) as f64 / (1u64 << 53) as f64 * (hi - lo)
    }

    /// A float in `lo..hi` rounded to `decimals` places, as instruments and maps report.
    fn rounded(&mut self, lo: f64, hi: f64, decimals: i32) -> f64 {
        let scale = 10f64.powi(decimals);
        (self.float(lo, hi) * scale).round() / scale
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

// ---- numbers-heavy: survey readings ----

#[derive(json::Serialize, json::Deserialize, serde::Serialize, serde::Deserialize)]
struct Reading {
    id: u64,
    station: u32,
    lat: f64,
    lon: f64,
    elevation: i32,
    samples: Vec<f64>,
    flags: Vec<u8>,
}

fn readings(rng: &mut Rng, n: usize) -> Vec<Reading> {
    (0..n)
        .map(|i| Reading {
            id: 1_000_000_000 + i as u64 * 7919,
            station: rng.below(5000) as u32,
            lat: rng.rounded(-90.0, 90.0, 6),
            lon: rng.rounded(-180.0, 180.0, 6),
            elevation: rng.below(9000) as i32 - 400,
            samples: (0..12).map(|_| rng.rounded(-50.0, 50.0, 2)).collect(),
            flags: (0..4).map(|_| rng.below(256) as u8).collect(),
        })
        .collect()
}

// ---- strings-heavy: chat messages ----

#[derive(json::Serialize, json::Deserialize, serde::Serialize, serde::Deserialize)]
struct Message {
    id: u64,
    author: String,
    lang: String,
    text: String,
    reply_to: Option<u64>,
    tags: Vec<String>,
}

const WORDS: &[&str] = &[
    "the",
    "quick",
    "brown",
    "fox",
    "naïve",
    "café",
    "jalapeño",
    "Zürich",
    "日本語",
    "テキスト",
    "こんにちは",
    "привет",
    "мир",
    "γειά",
    "😀",
    "🚀",
    "emoji👍",
    "\"quoted\"",
    "back\\slash",
    "line\nbreak",
    "tab\there",
    "path/to/file",
    "https://example.com/a?b=c",
    "ok",
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
];

fn messages(rng: &mut Rng, n: usize) -> Vec<Message> {
    (0..n)
        .map(|i| {
            let words = 8 + rng.below(30) as usize;
            let text = (0..words)
                .map(|_| rng.pick(WORDS))
                .collect::<Vec<_>>()
                .join(" ");
            Message {
                id: i as u64,
                author: format!("{}_{}", rng.pick(WORDS), rng.below(10_000)),
                lang: rng.pick(&["en", "ja", "ru", "de", "el"]).to_string(),
                text,
                reply_to: (rng.below(3) == 0).then(|| rng.below(i as u64 + 1)),
                tags: (0..rng.below(4))
                    .map(|_| rng.pick(WORDS).to_string())
                    .collect(),
            }
        })
        .collect()
}

// ---- object-heavy: a nested company directory ----

#[derive(json::Serialize, json::Deserialize, serde::Serialize, serde::Deserialize)]
struct Company {
    name: String,
    departments: Vec<Department>,
}

#[derive(json::Serialize, json::Deserialize, serde::Serialize, serde::Deserialize)]
struct Department {
    name: String,
    budget: u64,
    manager: Employee,
    employees: Vec<Employee>,
}

#[derive(json::Serialize, json::Deserialize, serde::Serialize, serde::Deserialize)]
struct Employee {
    name: String,
    email: String,
    age: u8,
    active: bool,
    address: Address,
    skills: Vec<Skill>,
}

#[derive(json::Serialize, json::Deserialize, serde::Serialize, serde::Deserialize)]
struct Address {
    street: String,
    city: String,
    zip: String,
    geo: Geo,
}

#[derive(json::Serialize, json::Deserialize, serde::Serialize, serde::Deserialize)]
struct Geo {
    lat: f64,
    lng: f64,
}

#[derive(json::Serialize, json::Deserialize, serde::Serialize, serde::Deserialize)]
struct Skill {
    name: String,
    level: u8,
}

fn employee(rng: &mut Rng) -> Employee {
    let first = rng.pick(&["ada", "alan", "grace", "edsger", "barbara", "donald", "ken"]);
    Employee {
        name: format!("{first} {}", rng.below(1000)),
        email: format!("{first}.{}@example.com", rng.below(1000)),
        age: 20 + rng.below(45) as u8,
        active: rng.below(5) != 0,
        address: Address {
            street: format!("{} Main Street", rng.below(999)),
            city: rng
                .pick(&["Berlin", "Paris", "Tokyo", "Lagos", "Lima"])
                .to_string(),
            zip: format!("{:05}", rng.below(100_000)),
            geo: Geo {
                lat: rng.float(-90.0, 90.0),
                lng: rng.float(-180.0, 180.0),
            },
        },
        skills: (0..1 + rng.below(4))
            .map(|_| Skill {
                name: rng.pick(&["rust", "sql", "go", "ml", "ops"]).to_string(),
                level: rng.below(10) as u8,
            })
            .collect(),
    }
}

fn companies(rng: &mut Rng, n: usize) -> Vec<Company> {
    (0..n)
        .map(|i| Company {
            name: format!("company {i}"),
            departments: (0..4)
                .map(|d| Department {
                    name: format!("dept {d}"),
                    budget: rng.below(10_000_000),
                    manager: employee(rng),
                    employees: (0..6).map(|_| employee(rng)).collect(),
                })
                .collect(),
        })
        .collect()
}

/// The medians of `RUNS` timings of `ours` and of `peer`. Runs alternate, so that a
/// change in machine load affects both sides alike.
fn medians(ours: impl FnMut(), peer: impl FnMut()) -> (Duration, Duration) {
    bench_harness::interleaved(RUNS, ours, peer)
}

fn report(name: &str, bytes: usize, (ours, peer): (Duration, Duration)) {
    let mb = bytes as f64 / 1e6;
    println!(
        "{name:<22} ours {:>8.2} ms ({:>6.0} MB/s)   serde_json {:>8.2} ms ({:>6.0} MB/s)   ratio {:>5.2}",
        ours.as_secs_f64() * 1e3,
        mb / ours.as_secs_f64(),
        peer.as_secs_f64() * 1e3,
        mb / peer.as_secs_f64(),
        bench_harness::ratio(ours, peer)
    );
}

/// Benchmarks the three workloads on one document type.
fn bench<T>(label: &str, data: &[T])
where
    T: json::Serialize + json::Deserialize + serde::Serialize + serde::de::DeserializeOwned,
{
    let text = serde_json::to_string(data).expect("serde_json writes the document");
    // Both libraries must agree on the document before their speed means anything.
    let ours: Vec<T> = json::from_json(&text).expect("json reads serde_json's output");
    assert_eq!(
        json::to_json(&ours).map(|s| s.len()).ok(),
        Some(text.len()),
        "json and serde_json must write documents of the same length"
    );

    let bytes = text.len();
    report(
        &format!("{label}/parse-value"),
        bytes,
        medians(
            || {
                black_box(json::parse_str(black_box(&text)).unwrap());
            },
            || {
                black_box(serde_json::from_str::<serde_json::Value>(black_box(&text)).unwrap());
            },
        ),
    );
    report(
        &format!("{label}/parse-struct"),
        bytes,
        medians(
            || {
                black_box(json::from_json::<Vec<T>>(black_box(&text)).unwrap());
            },
            || {
                black_box(serde_json::from_str::<Vec<T>>(black_box(&text)).unwrap());
            },
        ),
    );
    report(
        &format!("{label}/write"),
        bytes,
        medians(
            || {
                black_box(json::to_json(black_box(data)).unwrap());
            },
            || {
                black_box(serde_json::to_string(black_box(data)).unwrap());
            },
        ),
    );
}

fn main() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let numbers = readings(&mut rng, 12_000);
    let strings = messages(&mut rng, 12_000);
    let objects = companies(&mut rng, 250);
    for (label, len) in [
        ("numbers", serde_json::to_string(&numbers).unwrap().len()),
        ("strings", serde_json::to_string(&strings).unwrap().len()),
        ("objects", serde_json::to_string(&objects).unwrap().len()),
    ] {
        println!("{label}: {:.2} MB", len as f64 / 1e6);
    }
    bench("numbers", &numbers);
    bench("strings", &strings);
    bench("objects", &objects);
}
