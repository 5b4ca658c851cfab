//! The check kinds a stage can ask for, and everything a kind means: its name in `info.toml`,
//! its order, its time limit, the toolchain it needs, the cargo command that runs it, and what
//! `dev check` does with it. Adding a kind is a variant here, its arm in each method, and a
//! line in COURSE_FORMAT.md. Pure: no I/O.

use std::fmt;

/// One kind of check a stage can ask for. The order of the variants is the order checks run in
/// (`ALL`), whatever order a stage lists them in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheckKind {
    /// The stage's unit tests.
    Test,
    /// The stage's doctests (compile_fail included).
    Doc,
    /// The unit tests again, under Miri.
    Miri,
    /// The loom models, built with `--cfg mastery_loom`.
    Loom,
}

/// What a check needs installed beyond stable cargo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Toolchain {
    Stable,
    /// `cargo +nightly miri` with rust-src.
    NightlyMiri,
}

/// Which of a crate's targets a check runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Targets {
    /// `--lib`: the unit tests.
    Lib,
    /// `--doc`: the doctests.
    Doc,
    /// No selection: the lib's unit tests and its doctests (the course crates have no other
    /// targets).
    LibAndDoc,
}

impl CheckKind {
    /// Every kind, in the order checks run.
    pub const ALL: [CheckKind; 4] = [
        CheckKind::Test,
        CheckKind::Doc,
        CheckKind::Miri,
        CheckKind::Loom,
    ];

    /// The name in `info.toml`, `--only` and the verdicts.
    pub fn name(self) -> &'static str {
        match self {
            CheckKind::Test => "test",
            CheckKind::Doc => "doc",
            CheckKind::Miri => "miri",
            CheckKind::Loom => "loom",
        }
    }

    pub fn parse(s: &str) -> Option<CheckKind> {
        CheckKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// The names of every kind as a message lists them: `test, doc, miri and loom`.
    pub fn names_in_words() -> String {
        words(CheckKind::ALL.iter().map(|k| k.name().to_string()), "and")
    }

    /// The kinds a break-it stage may name, as a message lists them: `` `miri` or `loom` ``.
    pub fn with_findings_in_words() -> String {
        let kinds = CheckKind::ALL.into_iter().filter(|k| k.has_findings());
        words(kinds.map(|k| format!("`{}`", k.name())), "or")
    }

    /// How long the tests of one stage may run (after building) unless the stage says otherwise.
    pub fn default_timeout_secs(self) -> u64 {
        match self {
            CheckKind::Test | CheckKind::Doc => 60,
            CheckKind::Miri | CheckKind::Loom => 300,
        }
    }

    /// A check that reports findings of its own beyond the tests' results (Miri's undefined
    /// behaviour, loom's interleavings): a break-it stage names one, and a stage with one needs
    /// the larger share of mistakes in the corpus.
    pub fn has_findings(self) -> bool {
        matches!(self, CheckKind::Miri | CheckKind::Loom)
    }

    /// Whether the check runs the stage's unit tests (so the stage needs a tests section).
    pub fn runs_unit_tests(self) -> bool {
        self != CheckKind::Doc
    }

    pub fn toolchain(self) -> Toolchain {
        match self {
            CheckKind::Miri => Toolchain::NightlyMiri,
            CheckKind::Test | CheckKind::Doc | CheckKind::Loom => Toolchain::Stable,
        }
    }

    /// The check `dev check` proves a stage's teeth with: the first of these the stage has,
    /// the cheapest that runs its unit tests first.
    pub fn for_teeth(checks: &[CheckKind]) -> Option<CheckKind> {
        [CheckKind::Test, CheckKind::Loom, CheckKind::Miri]
            .into_iter()
            .find(|k| checks.contains(k))
    }

    // The command.

    /// The cargo arguments before `-p`.
    pub fn cargo_args(self) -> &'static [&'static str] {
        match self {
            CheckKind::Test | CheckKind::Doc => &["test"],
            CheckKind::Miri => &["+nightly", "miri", "test"],
            CheckKind::Loom => &["test", "--release"],
        }
    }

    pub fn targets(self) -> Targets {
        match self {
            CheckKind::Test | CheckKind::Loom => Targets::Lib,
            CheckKind::Doc => Targets::Doc,
            CheckKind::Miri => Targets::LibAndDoc,
        }
    }

    /// Whether the project's and the stages' `miri_flags` go into `MIRIFLAGS`.
    pub fn takes_miri_flags(self) -> bool {
        self == CheckKind::Miri
    }

    /// The cfg the check builds the crate with (added to RUSTFLAGS). A build with other
    /// RUSTFLAGS gets a target directory of its own (`own_target_dir`), and `dev check` runs
    /// clippy over the solutions with it too.
    pub fn cfg(self) -> Option<&'static str> {
        match self {
            CheckKind::Loom => Some(LOOM_CFG),
            CheckKind::Test | CheckKind::Doc | CheckKind::Miri => None,
        }
    }

    /// The subdirectory of the target directory a check with its own RUSTFLAGS builds in, so
    /// that the ordinary build is not thrown away at every switch.
    pub fn own_target_dir(self) -> Option<&'static str> {
        self.cfg().map(|_| self.name())
    }

    /// Environment variables of the check's run, beyond RUSTFLAGS and MIRIFLAGS.
    pub fn env(self) -> &'static [(&'static str, &'static str)] {
        match self {
            // The source lines of the accesses that conflict, in loom's report.
            CheckKind::Loom => &[("LOOM_MAX_PREEMPTIONS", "2"), ("LOOM_LOCATION", "1")],
            CheckKind::Test | CheckKind::Doc | CheckKind::Miri => &[],
        }
    }

    /// How a run of this kind selects a stage's tests (one libtest filter), and finds them in
    /// its output, from the stage's module (`s03_heap`) and its doctests' file
    /// (`src/s03_heap.rs`): unit tests by module path, doctests by file. Miri runs the unit
    /// tests and the doctests in one go: the module's name matches both (`s03_heap::tests::x`
    /// and `src/s03_heap.rs - s03_heap (line 40)`), since the header's examples are the code a
    /// learner copies first.
    pub fn selection(self, module: &str, doc_file: &str) -> Selection {
        let unit = format!("{module}::");
        let doc = format!("{doc_file} - ");
        match self {
            CheckKind::Test | CheckKind::Loom => Selection {
                filter: unit.clone(),
                prefix: unit,
                doc_prefix: None,
            },
            CheckKind::Doc => Selection {
                filter: doc_file.to_string(),
                prefix: doc,
                doc_prefix: None,
            },
            CheckKind::Miri => Selection {
                filter: module.to_string(),
                prefix: unit,
                doc_prefix: Some(doc),
            },
        }
    }
}

/// One stage's tests in one run: the filter that selects them, and the prefixes their names
/// start with in the output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// The libtest filter (one argument after `--`).
    pub filter: String,
    /// The names of the kind's own tests start with this.
    pub prefix: String,
    /// The stage's doctests, when the run has them besides its own tests (Miri's).
    pub doc_prefix: Option<String>,
}

/// The cfg that switches a crate's `sync` module to loom.
pub const LOOM_CFG: &str = "mastery_loom";

impl fmt::Display for CheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `a, b and c`.
fn words(items: impl Iterator<Item = String>, conjunction: &str) -> String {
    let items: Vec<String> = items.collect();
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} {conjunction} {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_from_its_name_in_run_order() {
        for kind in CheckKind::ALL {
            assert_eq!(CheckKind::parse(kind.name()), Some(kind));
        }
        assert!(CheckKind::ALL.is_sorted());
        assert_eq!(CheckKind::parse("clippy"), None);
    }

    #[test]
    fn the_kinds_are_listed_in_words() {
        assert_eq!(CheckKind::names_in_words(), "test, doc, miri and loom");
        assert_eq!(CheckKind::with_findings_in_words(), "`miri` or `loom`");
    }

    #[test]
    fn teeth_are_proven_by_the_cheapest_check_that_runs_the_unit_tests() {
        use CheckKind::*;
        assert_eq!(CheckKind::for_teeth(&[Doc, Miri, Test]), Some(Test));
        assert_eq!(CheckKind::for_teeth(&[Miri, Loom]), Some(Loom));
        assert_eq!(CheckKind::for_teeth(&[Doc]), None);
        for kind in CheckKind::ALL {
            assert_eq!(
                CheckKind::for_teeth(&[kind]).is_some(),
                kind.runs_unit_tests()
            );
        }
    }
}
