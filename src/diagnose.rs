//! What went wrong, in the learner's words: the notes shown under a failed check's verdict.
//! `todo!()` panics folded into one line per place, the other panics with their messages,
//! Miri's report summarised (the kind of bug in plain words, the learner's own line, what
//! usually causes it, where to read), loom's conflicting accesses. Pure: a `Report` in, lines
//! out; the full output stays in the log.

use std::collections::BTreeMap;

use crate::outcome::{MiriFinding, Panic, Report};

/// What loom's causality violation usually means, and where the fix is.
const LOOM_CAUSALITY: &str = "    usually: the atomic that should order these two accesses (a flag, a count, a pointer) is too weak (Relaxed where the writer needs Release and the reader Acquire) or misses a fence; the lines are where the data is touched, maybe in a test: the fix is on that atomic";

/// Other panics listed by name, at most.
const PANICS_SHOWN: usize = 5;

/// The notes for a failed run.
pub fn notes(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(miri) = &report.miri {
        out.extend(miri_notes(miri, report.unfinished.as_deref()));
    }
    out.extend(panic_notes(&report.panics));
    if !report.failing_seeds.is_empty() {
        let seeds: Vec<String> = report.failing_seeds.iter().map(u64::to_string).collect();
        out.push(format!(
            "Miri ran every test under several seeds (each seed is another thread schedule and \
             memory layout); it failed with seed {}. `-Zmiri-seed=N` in MIRIFLAGS replays one.",
            seeds.join(", ")
        ));
    }
    out
}

/// What the run found, each as a line a break-it stage's `finds` is matched against: Miri's
/// kind of bug in plain words and its message; the panics' messages and loom's details.
pub fn findings(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(miri) = &report.miri {
        out.push(format!(
            "{} ({})",
            classify(&miri.message).words,
            miri.message
        ));
    }
    for p in &report.panics {
        let mut line = p.message.clone();
        for d in &p.detail {
            line.push_str("; ");
            line.push_str(d);
        }
        out.push(line);
    }
    out
}

fn is_todo(p: &Panic) -> bool {
    p.message == "not yet implemented" || p.message.starts_with("not implemented")
}

/// `todo!()` panics, one line per place; then the others, one line each.
fn panic_notes(panics: &[Panic]) -> Vec<String> {
    let mut out = Vec::new();
    let mut todos: BTreeMap<&str, usize> = BTreeMap::new();
    for p in panics.iter().filter(|p| is_todo(p)) {
        *todos.entry(p.at.as_str()).or_default() += 1;
    }
    for (at, n) in todos {
        let tests = if n == 1 {
            "1 test reaches it".to_string()
        } else {
            format!("{n} tests reach it")
        };
        out.push(format!(
            "not yet implemented: the `todo!()` at {at}: {tests}"
        ));
    }
    let others: Vec<&Panic> = panics.iter().filter(|p| !is_todo(p)).collect();
    for p in others.iter().take(PANICS_SHOWN) {
        if foreign(&p.at) {
            // loom's and std's own panics: where they fired says nothing to the learner.
            out.push(format!("{} panicked: {}", p.thread, p.message));
        } else {
            out.push(format!("{} panicked at {}: {}", p.thread, p.at, p.message));
        }
        // loom's accesses, less those inside loom itself (where a cell was created by a
        // `Default` impl, say).
        out.extend(
            p.detail
                .iter()
                .filter(|d| !foreign(d))
                .map(|d| format!("    {d}")),
        );
        if p.message.starts_with("Causality violation") {
            out.push(LOOM_CAUSALITY.to_string());
        }
    }
    if others.len() > PANICS_SHOWN {
        out.push(format!(
            "and {} more panics (the full output is in the log)",
            others.len() - PANICS_SHOWN
        ));
    }
    out
}

/// A kind of undefined behaviour: its words, what usually causes it, where to read.
struct Kind {
    words: &'static str,
    usually: &'static str,
    read: &'static str,
}

const NOMICON: &str = "https://doc.rust-lang.org/nomicon/";

/// How a kind is recognised in Miri's message (lower-cased).
enum Match {
    Starts(&'static str),
    Any(&'static [&'static str]),
}

/// The kinds in the order they are tried: the first that matches is the kind.
const KINDS: &[(Match, Kind)] = &[
    (
        Match::Starts("memory leaked"),
        Kind {
            words: "a memory leak: an allocation was never freed",
            usually: "a value forgotten instead of dropped, a count that never reaches zero, or a cycle of strong references",
            read: "https://doc.rust-lang.org/nomicon/leaking.html",
        },
    ),
    (
        Match::Any(&["data race"]),
        Kind {
            words: "a data race: two threads touched the same memory, at least one writing, with no happens-before between them",
            usually: "a Relaxed access where a Release store / Acquire load pair must order the data, or a missing fence",
            read: "https://doc.rust-lang.org/nomicon/atomics.html",
        },
    ),
    (
        Match::Any(&["has been freed", "use-after-free"]),
        Kind {
            words: "a use after free: memory was used after it was deallocated",
            usually: "a pointer or reference kept past the drop of what it points to, a count decremented after the free, or a double free",
            read: "https://doc.rust-lang.org/nomicon/ownership.html",
        },
    ),
    (
        Match::Any(&[
            "out-of-bounds",
            "beyond the end",
            "outside the bounds",
            "out of bounds",
        ]),
        Kind {
            words: "an out-of-bounds access: a pointer reached past the end (or before the start) of its allocation",
            usually: "an offset or bounds check computed before alignment or with an off-by-one, or a copy of the wrong length",
            read: "https://doc.rust-lang.org/std/primitive.pointer.html#method.add",
        },
    ),
    (
        Match::Any(&["misaligned", "alignment"]),
        Kind {
            words: "a misaligned access: a value read or written at an address its type's alignment does not allow",
            usually: "an address not rounded up to `align_of::<T>()`, or rounding the offset instead of the address",
            read: "https://doc.rust-lang.org/reference/type-layout.html#size-and-alignment",
        },
    ),
    (
        Match::Any(&["uninitialized", "uninit"]),
        Kind {
            words: "a read of uninitialised memory",
            usually: "reading a slot before writing it, or `assume_init` on memory nothing wrote",
            read: "https://doc.rust-lang.org/nomicon/uninitialized.html",
        },
    ),
    (
        Match::Any(&["only grants sharedreadonly"]),
        Kind {
            words: "an aliasing violation (Stacked/Tree Borrows): a write (or a `&mut`) through a pointer that came from a shared `&` reference",
            usually: "a `*mut` made from a `&T` (`&x as *const T as *mut T`, `NonNull::from(&x)`): derive it from a `&mut` or from the original raw pointer",
            read: "https://doc.rust-lang.org/nomicon/aliasing.html",
        },
    ),
    (
        Match::Any(&[
            "borrow stack",
            "retag",
            "protected",
            "tree borrows",
            "forbidden",
            "foreign",
            "permission",
        ]),
        Kind {
            words: "an aliasing violation (Stacked/Tree Borrows): memory was used through a pointer that a later `&mut` (or `&`) invalidated",
            usually: "a `&mut` created over memory another live pointer still uses, or a pointer derived from a reference that covers less than it touches",
            read: "https://doc.rust-lang.org/nomicon/aliasing.html",
        },
    ),
    (
        Match::Any(&["provenance", "dangling", "integer"]),
        Kind {
            words: "a pointer without the right provenance: it does not point into an allocation it may use",
            usually: "a pointer made from an integer, or one derived from a different (or freed) allocation",
            read: "https://doc.rust-lang.org/std/ptr/index.html#provenance",
        },
    ),
    (
        Match::Any(&["invalid value", "constructing invalid"]),
        Kind {
            words: "an invalid value: bytes that are not a valid value of their type (a null reference, a bool that is not 0 or 1, ...)",
            usually: "a transmute or a read of the wrong type, or a reference made from a null or dangling pointer",
            read: "https://doc.rust-lang.org/reference/behavior-considered-undefined.html",
        },
    ),
    (
        Match::Starts("unsupported operation"),
        Kind {
            words: "an operation Miri cannot run (a foreign function, a system call it does not model)",
            usually: "a test that needs the real OS; such a test is gated with `#[cfg_attr(miri, ignore)]`",
            read: "https://github.com/rust-lang/miri#miri",
        },
    ),
];

/// What no entry of `KINDS` matches.
const OTHER: Kind = Kind {
    words: "undefined behaviour",
    usually: "an `unsafe` block whose SAFETY argument does not hold",
    read: NOMICON,
};

fn classify(message: &str) -> &'static Kind {
    let m = message.to_ascii_lowercase();
    KINDS
        .iter()
        .find(|(how, _)| match how {
            Match::Starts(prefix) => m.starts_with(prefix),
            Match::Any(words) => words.iter().any(|w| m.contains(w)),
        })
        .map_or(&OTHER, |(_, kind)| kind)
}

/// Code that is not the learner's: the standard library, the toolchain, dependencies.
fn foreign(place: &str) -> bool {
    place.starts_with("/rustc/")
        || place.contains("/.rustup/")
        || place.contains("/.cargo/registry/")
        || place.contains("/library/core/")
        || place.contains("/library/alloc/")
        || place.contains("/library/std/")
}

/// A place in a stage's own file (`src/s05_arc.rs:12`, `derive/src/s06_derive.rs:3`), not in
/// a test helper (`src/test_support.rs`) or a dependency.
fn in_stage(place: &str) -> bool {
    let file = file_line(place).rsplit_once(':').map_or(place, |(f, _)| f);
    let name = file.rsplit('/').next().unwrap_or(file);
    let b = name.as_bytes();
    !foreign(place)
        && b.len() > 4
        && b[0] == b's'
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
        && name.ends_with(".rs")
}

/// `path:line:col` -> `path:line`
fn file_line(place: &str) -> &str {
    match place.rsplit_once(':') {
        Some((head, col)) if col.chars().all(|c| c.is_ascii_digit()) && head.contains(':') => head,
        _ => place,
    }
}

fn miri_notes(miri: &MiriFinding, unfinished: Option<&str>) -> Vec<String> {
    let kind = classify(&miri.message);
    let mut out = vec![format!("Miri found {}", kind.words)];
    // The learner's first frame: where the bug shows in their code, in a stage file rather
    // than a test helper when the backtrace has one.
    let frame = (miri.frames.iter().find(|(_, at)| in_stage(at)))
        .or_else(|| miri.frames.iter().find(|(_, at)| !foreign(at)));
    let span = (miri.spans.iter().find(|at| in_stage(at)))
        .or_else(|| miri.spans.iter().find(|at| !foreign(at)));
    // The test: the one libtest announced, or a test function in the backtrace, or the
    // thread's name (which Miri may cut short).
    let test = unfinished
        .or_else(|| {
            miri.frames
                .iter()
                .map(|(f, _)| f.as_str())
                .find(|f| f.contains("::tests::") && !f.contains("{closure"))
        })
        .or_else(|| {
            miri.thread
                .as_deref()
                .filter(|t| !t.starts_with("unnamed") && *t != "main")
        });
    let in_test = test.map(|t| format!(" (test {t})")).unwrap_or_default();
    match (frame, span) {
        (Some((function, at)), _) => {
            out.push(format!("  at {} in `{function}`{in_test}", file_line(at)))
        }
        (None, Some(at)) => out.push(format!("  at {}{in_test}", file_line(at))),
        (None, None) => {}
    }
    if kind.words.starts_with("a data race") {
        // The race's second access is where the report points (in std, the learner's first
        // frame of its backtrace); the first is the span Miri labels `(1) occurred earlier`.
        let second = frame.map(|(_, at)| at).or(span);
        let first = miri.earlier.as_ref().filter(|at| !foreign(at));
        if let (Some(second), Some(first)) = (second, first) {
            out.push(format!(
                "  the two accesses: {} and, earlier, {}",
                file_line(second),
                file_line(first)
            ));
        }
    }
    out.push(format!("  usually: {}", kind.usually));
    out.push(format!("  read: {}", kind.read));
    out.push(format!("  Miri said: {}", miri.message));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(text: &str) -> Report {
        let mut r = Report::default();
        for line in text.lines() {
            r.line(line);
        }
        r
    }

    #[test]
    fn todo_panics_fold_into_one_line_per_place() {
        let mut text = String::new();
        for t in ["a", "b", "c"] {
            text.push_str(&format!(
                "---- s01::tests::{t} stdout ----\n\nthread 's01::tests::{t}' (99) panicked at src/s01.rs:7:9:\nnot yet implemented\nnote: run with `RUST_BACKTRACE=1`\n\n"
            ));
        }
        text.push_str(
            "thread 's01::tests::d' (5) panicked at src/s01.rs:40:5:\nassertion `left == right` failed: len counts every element\n",
        );
        assert_eq!(
            notes(&report(&text)),
            vec![
                "not yet implemented: the `todo!()` at src/s01.rs:7:9: 3 tests reach it",
                "s01::tests::d panicked at src/s01.rs:40:5: assertion `left == right` failed: len counts every element",
            ]
        );
    }

    #[test]
    fn a_miri_report_names_the_kind_the_learners_line_and_the_test() {
        let text = "test s01::tests::uaf ... error: Undefined Behavior: memory access failed: alloc40949 has been freed, so this pointer is dangling
 --> /rustc/abc/library/core/src/ptr/mod.rs:10:5
  |
  = note: this is on thread `s01::tests::uaf`
  = note: stack backtrace:
          0: std::ptr::read::<u8>
              at /rustc/abc/library/core/src/ptr/mod.rs:10:5: 10:9
          1: MyRc::<u8>::get
              at exercises/06_sp/src/s01.rs:88:14: 88:20
          2: s01::tests::uaf
              at exercises/06_sp/src/s01.rs:120:9: 120:20

error: aborting due to 1 previous error
";
        let r = report(text);
        assert_eq!(
            notes(&r),
            vec![
                "Miri found a use after free: memory was used after it was deallocated",
                "  at exercises/06_sp/src/s01.rs:88 in `MyRc::<u8>::get` (test s01::tests::uaf)",
                "  usually: a pointer or reference kept past the drop of what it points to, a count decremented after the free, or a double free",
                "  read: https://doc.rust-lang.org/nomicon/ownership.html",
                "  Miri said: Undefined Behavior: memory access failed: alloc40949 has been freed, so this pointer is dangling",
            ]
        );
    }

    #[test]
    fn a_write_through_a_shared_reference_is_named_as_such() {
        let text = "error: Undefined Behavior: attempting a write access using <7> at alloc1[0x0], but that tag only grants SharedReadOnly permission for this location\n";
        assert_eq!(
            notes(&report(text))[0],
            "Miri found an aliasing violation (Stacked/Tree Borrows): a write (or a `&mut`) through a pointer that came from a shared `&` reference"
        );
    }

    #[test]
    fn a_data_race_names_both_accesses() {
        let text = "error: Undefined Behavior: Data race detected between (1) non-atomic read on thread `t` and (2) non-atomic write on thread `unnamed-2` at alloc75
  --> src/s03.rs:18:48
help: and (1) occurred earlier here
  --> src/s03.rs:19:26
   = note: this is on thread `unnamed-2`
";
        let n = notes(&report(text));
        assert_eq!(n[1], "  at src/s03.rs:18");
        assert_eq!(
            n[2],
            "  the two accesses: src/s03.rs:18 and, earlier, src/s03.rs:19"
        );
    }

    #[test]
    fn a_race_whose_second_access_is_in_std_names_the_learners_frame_and_the_earlier_access() {
        let text = "error: Undefined Behavior: Data race detected between (1) non-atomic read on thread `t` and (2) deallocation on thread `u` at alloc75
  --> /root/.rustup/toolchains/nightly/lib/rustlib/src/rust/library/alloc/src/boxed.rs:1700:9
help: and (1) occurred earlier here
  --> src/s05_arc.rs:313:20
   = note: this is on thread `u`
note: the current function got called indirectly due to this code
  --> src/test_support.rs:15:5
   = note: BACKTRACE (of the first span):
   0: std::ptr::drop_in_place::<std::boxed::Box<x>> - shim(Some(std::boxed::Box<x>))
       at /root/.rustup/toolchains/nightly/lib/rustlib/src/rust/library/core/src/ptr/mod.rs:804:1
   1: <s05_arc::MyArc<x> as std::ops::Drop>::drop
       at src/s05_arc.rs:179:13
";
        let n = notes(&report(text));
        assert!(
            n.contains(
                &"  the two accesses: src/s05_arc.rs:179 and, earlier, src/s05_arc.rs:313"
                    .to_string()
            ),
            "{n:#?}"
        );
    }

    #[test]
    fn the_learners_line_is_in_a_stage_file_rather_than_a_test_helper() {
        let text = "error: Undefined Behavior: memory access failed: alloc9 has been freed, so this pointer is dangling
  --> src/alloc_counter.rs:30:9
   = note: BACKTRACE:
   0: <alloc_counter::Counting as std::alloc::GlobalAlloc>::dealloc
       at src/alloc_counter.rs:30:9
   1: <s03_box::MyBox<u8> as std::ops::Drop>::drop
       at src/s03_box.rs:88:13
";
        let n = notes(&report(text));
        assert_eq!(
            n[1],
            "  at src/s03_box.rs:88 in `<s03_box::MyBox<u8> as std::ops::Drop>::drop`"
        );
        assert!(in_stage("derive/src/s06_derive.rs:3:1") && in_stage("src/s02b_rc_break.rs:9:1"));
        assert!(!in_stage("src/test_support.rs:15:5") && !in_stage("src/sync.rs:1:1"));
    }

    #[test]
    fn loom_accesses_follow_the_panic() {
        let text = "thread 'tests::handoff' (31042) panicked at /root/.cargo/registry/src/x/loom-0.7.3/src/rt/location.rs:115:9:

Causality violation: Concurrent read and write accesses.
    created: /root/.cargo/registry/src/x/loom-0.7.3/src/cell/unsafe_cell.rs:207:9
       read: thread #0 @ src/lib.rs:18:32
      write: thread #1 @ src/lib.rs:14:25

stack backtrace:
";
        assert_eq!(
            notes(&report(text)),
            vec![
                "tests::handoff panicked: Causality violation: Concurrent read and write accesses.",
                "    read: thread #0 @ src/lib.rs:18:32",
                "    write: thread #1 @ src/lib.rs:14:25",
                LOOM_CAUSALITY,
            ]
        );
    }
}
