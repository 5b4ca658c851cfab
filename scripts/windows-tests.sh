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
NEEDS_CARGO="builds and runs a stage: no Windows cargo under wine"
NEEDS_GIT="commits the fixture course or restores from git: no Windows git under wine"
declare -A NOT_UNDER_WINE=(
)

if [[ $what != cli ]]; then
    echo "== unit tests"
    nice cargo test --release --target "$target" --bins
fi

if [[ $what != unit ]]; then
    echo "== tests/cli.rs"
    nice cargo test --release --target "$target" --test cli --no-run
    mapfile -t all < <(cargo test --release --target "$target" --test cli -- --list 2>/dev/null |
        sed -n 's/: test$//p')
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
