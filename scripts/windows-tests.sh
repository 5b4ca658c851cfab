#!/usr/bin/env bash
# The runner's own tests, built for Windows (x86_64-pc-windows-gnu) and run under wine.
#
#     scripts/windows-tests.sh            unit tests, then the Windows-runnable tests of tests/cli.rs
#     scripts/windows-tests.sh unit       unit tests only
#     scripts/windows-tests.sh cli        tests/cli.rs only
#
# Needs (Debian/Ubuntu):  apt-get install wine64 gcc-mingw-w64-x86-64
#                         rustup target add x86_64-pc-windows-gnu
#
# Rust's std (1.78 and later) imports `ProcessPrng` from bcryptprimitives.dll, which wine 8.0 (the
# Debian 12 package) does not have, so no Rust binary starts under it. This script builds a shim
# bcryptprimitives.dll (ProcessPrng on RtlGenRandom) with mingw and puts it in the system32 of a
# private wine prefix, target/wine: the user's own ~/.wine is never touched.
#
# Under wine there is no Windows cargo, rustc or git, so the tests of tests/cli.rs that build a
# stage or commit the fixture course cannot run; they are listed below with that reason, named
# in the output, and checked to still exist. The rest run by exact name. Tests that need a Unix
# terminal or signals (the pseudo-terminal, SIGKILL, SIGTERM) are `#[cfg(unix)]` in the source;
# their Windows counterparts (job objects) are process.rs's unit tests.
set -euo pipefail

cd "$(dirname "$0")/.."
what=${1:-all}
case $what in all | unit | cli) ;; *)
    echo "usage: scripts/windows-tests.sh [unit|cli]" >&2
    exit 2
    ;;
esac

target=x86_64-pc-windows-gnu
wine=${WINE64:-$(command -v wine64 || echo /usr/lib/wine/wine64)}
missing=()
[[ -x $wine ]] || missing+=("wine64: apt-get install wine64")
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=("mingw: apt-get install gcc-mingw-w64-x86-64")
rustup target list --installed 2>/dev/null | grep -qx "$target" ||
    missing+=("the Rust target: rustup target add $target")
if ((${#missing[@]})); then
    printf 'windows-tests: missing %s\n' "${missing[@]}" >&2
    exit 2
fi

target_dir=$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
export WINEPREFIX=$target_dir/wine
# Quiet, and no dialog offering to install Mono or Gecko.
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=$wine

started=$SECONDS
if [[ ! -f $WINEPREFIX/system.reg ]]; then
    echo "== creating the wine prefix $WINEPREFIX"
    mkdir -p "$WINEPREFIX"
    # wine64 alone has no 32-bit side: its complaint about syswow64\rundll32.exe is harmless.
    "$wine" wineboot --init 2>&1 | grep -v 'syswow64' || true
fi
dll=$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll
if [[ ! -f $dll || $0 -nt $dll ]]; then
    echo "== building the ProcessPrng shim into $dll"
    shim=$(mktemp -d)
    cat >"$shim/shim.c" <<'EOF_C'
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG len); /* RtlGenRandom, advapi32 */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
EOF_C
    printf 'LIBRARY bcryptprimitives\nEXPORTS\n    ProcessPrng\n' >"$shim/shim.def"
    x86_64-w64-mingw32-gcc -O2 -shared -o "$dll" "$shim/shim.c" "$shim/shim.def" -ladvapi32
    rm -r "$shim"
fi

# Tests of tests/cli.rs that do not run under wine, each with its reason. A test here that no
# longer exists fails the script, so the list cannot go stale.
NEEDS_CARGO="runs cargo on the fixture course: no Windows cargo under wine"
NEEDS_MIRI="runs cargo +nightly miri: no Windows cargo or Miri under wine"
NEEDS_GIT="needs git (stubs.lock's blob ids, reset from history): no Windows git under wine"
declare -A NOT_UNDER_WINE=(
    [a_corrupt_state_file_is_moved_aside_and_progress_is_rebuilt_by_verify]=$NEEDS_CARGO
    [a_crash_among_failures_is_the_verdict_and_names_the_test_that_was_running]=$NEEDS_CARGO
    [a_crash_is_named_in_plain_words]=$NEEDS_CARGO
    [a_hanging_stage_is_killed_at_its_timeout_and_the_running_test_is_named]="$NEEDS_CARGO (and pgrep)"
    [a_relaxed_handoff_is_caught_by_loom_with_both_accesses]=$NEEDS_CARGO
    [a_segfault_in_a_stage_without_miri_offers_the_miri_command]=$NEEDS_CARGO
    [a_solved_stage_passes_is_saved_and_the_course_moves_on]=$NEEDS_CARGO
    [bench_runs_the_benchmark_crate_on_the_learners_code_or_the_solution]=$NEEDS_CARGO
    [dev_check_finds_stubs_that_hang_or_crash_and_passes_a_sound_course]="$NEEDS_CARGO (and git)"
    [doctor_lists_the_tools]="expects cargo to be found: no Windows cargo under wine"
    [megabytes_of_output_are_capped_on_screen_and_kept_in_the_log]=$NEEDS_CARGO
    [run_reports_a_failing_stub_and_exits_1]=$NEEDS_CARGO
    [suggested_commands_fit_how_mastery_was_started]=$NEEDS_CARGO
    [todo_panics_fold_into_one_line_even_with_rust_backtrace_set]=$NEEDS_CARGO
    [unit_tests_and_doctests_share_one_run_and_are_judged_apart]=$NEEDS_CARGO
    [verify_only_reports_the_stages_that_have_those_checks]=$NEEDS_CARGO
    [verify_prints_a_table_and_json]=$NEEDS_CARGO
    [a_break_it_stage_passes_on_the_bug_it_asks_for_and_shows_the_report]=$NEEDS_MIRI
    [a_crash_in_a_stage_with_miri_hands_over_to_miri]=$NEEDS_MIRI
    [a_use_after_free_under_miri_is_summarised_with_the_learners_line]=$NEEDS_MIRI
    [dev_mistakes_proves_each_mistake_is_rejected_by_the_check_it_names]=$NEEDS_MIRI
    [dev_check_notices_a_stale_stubs_lock]=$NEEDS_GIT
    [dev_check_tree_only_checks_the_tree_and_the_corpus_files]=$NEEDS_GIT
    [reset_restores_the_true_original_after_a_commit_and_keeps_a_backup]=$NEEDS_GIT
)

if [[ $what != cli ]]; then
    echo "== unit tests"
    nice cargo test --release --target "$target" --bins
fi

if [[ $what != unit ]]; then
    echo "== tests/cli.rs"
    nice cargo test --release --target "$target" --test cli --no-run
    listed=$(cargo test --release --target "$target" --test cli -- --list 2>&1) || true
    mapfile -t all < <(sed -n 's/: test$//p' <<<"$listed")
    if ((${#all[@]} == 0)); then
        echo "windows-tests: the test binary listed no tests under wine:" >&2
        echo "$listed" >&2
        exit 1
    fi
    run=()
    for t in "${all[@]}"; do
        [[ -n ${NOT_UNDER_WINE[$t]+x} ]] || run+=("$t")
    done
    for t in "${!NOT_UNDER_WINE[@]}"; do
        printf '%s\n' "${all[@]}" | grep -qx "$t" || {
            echo "windows-tests: $t is listed as not run under wine but no such test exists" >&2
            exit 1
        }
    done
    ((${#run[@]})) || { echo "windows-tests: no test of tests/cli.rs left to run" >&2; exit 1; }
    nice cargo test --release --target "$target" --test cli -- --exact "${run[@]}"
    echo "== not run under wine (${#NOT_UNDER_WINE[@]} of ${#all[@]}):"
    for t in $(printf '%s\n' "${!NOT_UNDER_WINE[@]}" | sort); do
        echo "   $t: ${NOT_UNDER_WINE[$t]}"
    done
fi
echo "== windows-tests: done in $((SECONDS - started))s"
