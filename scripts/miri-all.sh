#!/usr/bin/env bash
# Miri over every unit test and doctest of every reference solution crate.
#
#     scripts/miri-all.sh [PROJECT ...]       default: every project in info.toml, in order
#
# A stage's `miri` check runs only that stage's tests, and only for stages that declare it. This
# script runs `cargo +nightly miri test -p PROJECT` in solutions/ (the library's unit tests and its
# doctests: a project crate has no other target) with the project's `miri_flags` from info.toml,
# so that every test of the course is known to be free of undefined behaviour, or excluded here
# with a reason. Prints per crate: passed, failed, ignored (each ignored test with the reason
# written above its `#[cfg_attr(miri, ignore)]`), excluded, and the time. Exits non-zero if a
# crate fails, times out, or runs no test at all. See COURSE_FORMAT.md, "Miri over whole crates".
#
# What is excluded, and why:
# - Break-it stages (a `breaks` entry in info.toml): their reference solution is the bug by
#   design, and the stage's own check expects Miri (or loom) to find it. Their unit tests are
#   skipped by module (`--skip sNN_topic::`); their doctests still run.
# - A stage with `miri_flags` of its own runs in a group of its own, with the project's flags and
#   then the stage's (its tests and its file's doctests), and is skipped in the crate's main run.
# - Tests that Miri cannot run (real sockets, system calls it does not model, processes) or that
#   cost minutes without touching unsafe code are `#[cfg_attr(miri, ignore)]` in the source,
#   below a `// Miri: ...` line (or with a trailing comment) that says why.
# - Single tests listed in `known` below, each with its reason: a problem in the test, not in the
#   solution, until it is fixed where it is.
#
# Environment: MIRI_TIMEOUT (seconds per crate, default 1200). Logs: solutions/target/miri-all/.
# The run is niced. Miri interprets one test at a time (one core), except that the seeds of
# -Zmiri-many-seeds run in parallel.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
limit=${MIRI_TIMEOUT:-1200}
logs=solutions/target/miri-all
mkdir -p "$logs"
trap 'rm -f "$logs/.times.$$"' EXIT

if ! cargo +nightly miri --version >/dev/null 2>&1; then
    echo "Miri is not installed; installing it (rustup component add --toolchain nightly miri rust-src)" >&2
    rustup component add --toolchain nightly miri rust-src
fi

# Tests skipped by name (`project|test path|reason`): each a problem of the test under one of
# the project's flags, to fix in the test and then remove here.
known=(
)

# info.toml as lines: `project NAME DIR FLAGS...` and `stage NAME PROJECT FILE BREAKS FLAGS...`
# (BREAKS is the check a break-it stage breaks, or `-`).
info=$(awk '
    function flush() {
        if (sect == "p") print "project", name, dir, flags
        if (sect == "s") print "stage", name, proj, file, (brk == "" ? "-" : brk), flags
        name = ""; dir = ""; proj = ""; file = ""; flags = ""; brk = ""
    }
    function val(line) { sub(/^[^=]*= *"/, "", line); sub(/".*$/, "", line); return line }
    /^\[\[/ { flush(); sect = "" }
    /^\[\[projects\]\]/ { sect = "p"; next }
    /^\[\[stages\]\]/ { sect = "s"; next }
    sect == "" { next }
    /^name *=/ { name = val($0) }
    /^dir *=/ { dir = val($0) }
    /^project *=/ { proj = val($0) }
    /^file *=/ { file = val($0) }
    /^miri_flags *=/ { f = $0; sub(/^[^[]*\[/, "", f); sub(/\].*$/, "", f); gsub(/[",]/, " ", f); gsub(/  +/, " ", f); gsub(/^ | $/, "", f); flags = f }
    /^breaks *=/ { b = $0; sub(/^.*check *= *"/, "", b); sub(/".*$/, "", b); brk = b }
    END { flush() }
' info.toml)

projects=("$@")
if [[ ${#projects[@]} -eq 0 ]]; then
    mapfile -t projects < <(awk '$1 == "project" { print $2 }' <<<"$info")
fi

# `file line reason`: the `// Miri: ...` comment (or a trailing `// ...` on the attribute) of the
# ignored test `path` (`sNN_topic::tests::name`) in the crate at `dir`.
ignore_reason() {
    local dir=$1 path=$2
    local stem=${path%%::*} name=${path##*::}
    local file=$dir/src/$stem.rs
    [[ -f $file ]] || { echo "(no file $file)"; return; }
    awk -v name="$name" '
        /^ *\/\/ *Miri:/ { reason = $0; sub(/^ *\/\/ *Miri: */, "", reason) }
        /cfg_attr\(miri, *ignore\)/ && /\/\// { r = $0; sub(/^.*\/\/ */, "", r); reason = r }
        /^ *$/ || /^ *}/ { reason = "" }
        $0 ~ "fn " name "\\(" { print (reason == "" ? "NO REASON GIVEN" : reason); exit }
    ' "$file"
}

# Runs `cargo miri test` for one group and appends its output to the crate's log, then lists
# the group's tests, and its ignored ones, into $log.list and $log.ignored. The counts come from
# those lists, not from the run's output: under -Zmiri-many-seeds the seeds run in parallel and
# their output is interleaved. (Listing interprets no test, so it takes seconds.)
# Args: log flags... -- test-args...
run_group() {
    local log=$1
    shift
    local flags=() one_seed=()
    while [[ $1 != -- ]]; do
        flags+=("$1")
        [[ $1 == -Zmiri-many-seeds* ]] || one_seed+=("$1")
        shift
    done
    shift
    local rc=0
    echo "+ MIRIFLAGS='${flags[*]}' cargo +nightly miri test -p $project -- $*" >>"$log"
    (cd solutions && MIRIFLAGS="${flags[*]}" nice timeout --kill-after=10 "$limit" \
        cargo +nightly miri test -p "$project" -- "$@") >>"$log" 2>&1 || rc=$?
    (cd solutions && MIRIFLAGS="${one_seed[*]}" cargo +nightly miri test -q -p "$project" -- \
        --list "$@" 2>/dev/null) | sed -n 's/: test$//p' >>"$log.list" || true
    (cd solutions && MIRIFLAGS="${one_seed[*]}" cargo +nightly miri test -q -p "$project" -- \
        --list --ignored "$@" 2>/dev/null) | sed -n 's/: test$//p' >>"$log.ignored" || true
    return $rc
}

# CPU seconds (user + system) of this script's finished child processes, into $cpu_now: the
# time a crate takes on an idle machine, whatever else the machine runs. (`times` runs in this
# shell, not in a command substitution, whose subshell has no children of its own yet.)
cpu_now() {
    times >"$logs/.times.$$"
    cpu_now=$(awk 'NR == 2 {
        t = 0
        for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
        printf "%d", t
    }' "$logs/.times.$$")
}

status=0
total_start=$(date +%s)
summary=()
for project in "${projects[@]}"; do
    line=$(awk -v p="$project" '$1 == "project" && $2 == p' <<<"$info")
    [[ -n $line ]] || { echo "no project named '$project' in info.toml" >&2; exit 2; }
    read -r _ _ exdir pflags <<<"$line"
    dir=solutions/${exdir#exercises/}
    log=$logs/$project.log
    : >"$log"
    : >"$log.list"
    : >"$log.ignored"

    skips=()
    excluded=()
    groups=()
    while read -r _ sname _ sfile brk sflags; do
        stem=$(basename "$sfile" .rs)
        if [[ $brk != - ]]; then
            skips+=(--skip "$stem::")
            excluded+=("$sname ($stem::): a break-it stage, its solution is the bug its $brk check must find")
        elif [[ -n $sflags ]]; then
            skips+=(--skip "$stem::" --skip "src/$stem.rs")
            groups+=("$stem $sflags")
        fi
    done < <(awk -v p="$project" '$1 == "stage" && $3 == p' <<<"$info")
    for k in "${known[@]}"; do
        IFS='|' read -r kproject ktest kreason <<<"$k"
        if [[ $kproject == "$project" ]]; then
            skips+=(--skip "$ktest")
            excluded+=("$ktest: $kreason")
        fi
    done

    echo "== $project (MIRIFLAGS: ${pflags:-none})"
    start=$(date +%s)
    cpu_now
    cpu_start=$cpu_now
    rc=0
    # shellcheck disable=SC2086 # the flags are words
    run_group "$log" $pflags -- "${skips[@]}" || rc=$?
    for g in "${groups[@]}"; do
        read -r stem gflags <<<"$g"
        # shellcheck disable=SC2086
        run_group "$log" $pflags $gflags -- "$stem::" "src/$stem.rs" || rc=$?
    done
    secs=$(($(date +%s) - start))
    cpu_now
    cpu=$((cpu_now - cpu_start))

    listed=$(sort -u "$log.list" | wc -l)
    ignored=$(sort -u "$log.ignored" | wc -l)
    passed=$((listed - ignored))
    # A failed assertion prints `---- NAME stdout ----`; a Miri report aborts the run at the test.
    failed=$({ grep -oE '^---- [^ ]+ stdout ----|^test [^ ]+ \.\.\. error:' "$log" || true; } |
        sort -u | wc -l)

    verdict=ok
    if [[ $rc -eq 124 || $rc -eq 137 ]]; then
        verdict=TIMEOUT why="after ${limit}s"
    elif [[ $rc -ne 0 ]]; then
        verdict=FAILED why="exit $rc"
    elif [[ $passed -eq 0 ]]; then
        verdict=FAILED why="no test ran"
    fi
    [[ $verdict == ok ]] || passed=0 # unknown: the lists say only what was to run
    [[ $verdict == ok ]] || status=1
    if [[ $verdict == ok ]]; then
        printf '   ok: %d passed (unit tests and doctests), %d ignored, %d excluded, %ds (%ds CPU)\n' \
            "$passed" "$ignored" "${#excluded[@]}" "$secs" "$cpu"
    else
        printf '   %s (%s): %d tests failed of %d listed, %d ignored, %d excluded, %ds\n' \
            "$verdict" "$why" "$failed" "$listed" "$ignored" "${#excluded[@]}" "$secs"
    fi
    for e in "${excluded[@]}"; do
        echo "   excluded: $e"
    done
    for g in "${groups[@]}"; do
        echo "   own group: ${g%% *} with its stage's flags ${g#* }"
    done
    sort -u "$log.ignored" |
        while read -r t; do
            echo "   ignored: $t: $(ignore_reason "$dir" "$t")"
        done
    if [[ $verdict != ok ]]; then
        echo "   --- the end of $log:"
        { grep -E '^test .*(FAILED|error:)|^error: [^at]|^---- ' "$log" || true; } | head -20 |
            cut -c1-300 | sed 's/^/   /'
        tail -25 "$log" | sed 's/^/   | /'
    fi
    summary+=("$(printf '%-15s %-8s %4d passed %3d ignored %6ds %6ds CPU' \
        "$project" "$verdict" "$passed" "$ignored" "$secs" "$cpu")")
done

echo
echo "== summary (total $(($(date +%s) - total_start))s)"
printf '%s\n' "${summary[@]}"
exit $status
