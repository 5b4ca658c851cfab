//! What the machine has: cargo, the nightly toolchain, Miri and rust-src. Each probe runs at
//! most once per process.

use std::path::Path;
use std::sync::OnceLock;

use crate::course::CheckKind;
use crate::kind::Toolchain;
use crate::process::output_of;

pub const INSTALL_NIGHTLY: &str = "rustup toolchain install nightly";
pub const INSTALL_MIRI: &str = "rustup component add --toolchain nightly miri rust-src";

/// A probe's answer: the version line when the tool is there.
pub type Probe = Option<String>;

fn first_line(s: String) -> String {
    s.lines().next().unwrap_or_default().trim().to_string()
}

pub fn cargo() -> Probe {
    static P: OnceLock<Probe> = OnceLock::new();
    P.get_or_init(|| output_of("cargo", &["--version"], Path::new(".")).map(first_line))
        .clone()
}

pub fn nightly() -> Probe {
    static P: OnceLock<Probe> = OnceLock::new();
    P.get_or_init(|| output_of("rustc", &["+nightly", "--version"], Path::new(".")).map(first_line))
        .clone()
}

pub fn miri() -> Probe {
    static P: OnceLock<Probe> = OnceLock::new();
    P.get_or_init(|| {
        output_of("cargo", &["+nightly", "miri", "--version"], Path::new(".")).map(first_line)
    })
    .clone()
}

pub fn rust_src() -> bool {
    static P: OnceLock<bool> = OnceLock::new();
    *P.get_or_init(|| {
        output_of(
            "rustup",
            &["component", "list", "--toolchain", "nightly", "--installed"],
            Path::new("."),
        )
        .is_some_and(|list| list.lines().any(|l| l.starts_with("rust-src")))
    })
}

/// Why a check cannot run on this machine, with the command that fixes it; `None` when it can.
pub fn unavailable(kind: CheckKind) -> Option<String> {
    match kind.toolchain() {
        Toolchain::Stable => None,
        Toolchain::NightlyMiri => missing_miri(nightly().is_some(), miri().is_some() && rust_src()),
    }
}

/// The message for a machine with or without the nightly toolchain and Miri.
fn missing_miri(have_nightly: bool, have_miri: bool) -> Option<String> {
    match (have_nightly, have_miri) {
        (false, _) => Some(format!(
            "this stage runs under Miri, which needs the nightly toolchain. Install both with `{INSTALL_NIGHTLY} && {INSTALL_MIRI}`"
        )),
        (true, false) => Some(format!(
            "this stage runs under Miri, which is not installed. Install it with `{INSTALL_MIRI}`"
        )),
        (true, true) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_miri_is_named_with_the_command_that_installs_it() {
        assert_eq!(
            missing_miri(true, false).unwrap(),
            "this stage runs under Miri, which is not installed. Install it with `rustup component add --toolchain nightly miri rust-src`"
        );
        assert!(
            missing_miri(false, false)
                .unwrap()
                .contains("rustup toolchain install nightly && rustup component add")
        );
        assert_eq!(missing_miri(true, true), None);
    }
}
