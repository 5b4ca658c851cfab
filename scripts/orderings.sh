#!/usr/bin/env bash
# Weakens every memory ordering of a project's loom stages, one at a time, and runs the stage's
# loom check on each variant.
#
#     scripts/orderings.sh PROJECT [STAGE_FILE]     e.g. scripts/orderings.sh mpsc s05_spsc
#
# cargo-mutants (scripts/mutants.sh) never weakens a memory ordering, yet a too-weak ordering is
# the mistake of the atomics stages. For each stage of PROJECT whose `checks` include "loom" (or
# only STAGE_FILE: `src/s05_spsc.rs`, `s05_spsc` or the stage's name), this script finds every
# ordering in the stage's solution file outside its test modules (`Ordering::X`, and bare
# `Acquire`... when the file imports the variants), decides from the text which operation it
# belongs to, and makes each strictly weaker variant that is valid for that operation:
#
#     load                 SeqCst -> Acquire, Relaxed;  Acquire -> Relaxed
#     store                SeqCst -> Release, Relaxed;  Release -> Relaxed
#     RMW, CAS success     SeqCst -> AcqRel, Acquire, Release, Relaxed;  AcqRel -> Acquire,
#                          Release, Relaxed;  Acquire, Release -> Relaxed
#     CAS failure          SeqCst -> Acquire, Relaxed;  Acquire -> Relaxed
#     fence                SeqCst -> AcqRel, Acquire, Release;  AcqRel -> Acquire, Release
#                          (a Relaxed fence panics)
#
# The operation is the innermost call still open before the ordering: `.load(`, `.store(`,
# `.swap(`/`.fetch_*(` (RMW), `.compare_exchange(`/`_weak(`/`.fetch_update(` (the first ordering
# is the success one, the second the failure one), `fence(`. An ordering passed to anything else
# (a helper that takes an `Ordering`) is reported as `unknown` and not weakened: loom accepts a
# release load or an acquire store without a word (std panics on them), so a variant is made
# only where its validity is known from the text.
#
# Each variant is applied in a copy of solutions/ (solutions/target/orderings/work, rebuilt from
# the source at every run; never the source tree), and the stage's loom check runs on it as the
# runner runs it:
#     RUSTFLAGS="--cfg mastery_loom" LOOM_MAX_PREEMPTIONS=2 LOOM_LOCATION=1 \
#         cargo test --release -p PROJECT --lib -- STEM::
# (its own CARGO_TARGET_DIR, solutions/target/orderings/target). The unchanged stage runs first
# and must pass. Each variant is then one of:
#     rejected   loom finds it (a test fails: causality violation, deadlock, a failed assertion)
#     passed     every loom model passes: a wrong ordering loom misses, or a correct one
#     invalid    it does not build, or panics with "there is no such thing as ..."
#     timeout    the run took longer than ORDERINGS_TIMEOUT seconds (default 600)
# One line per variant (file:line, the change, the outcome) and a summary per stage. A variant
# that passes is named by the stage file and a `mutant` text that survives unrelated edits:
#     Ordering::Release -> Ordering::Relaxed in the store, ordering 2 of Producer::push
# (the operation; the ordering's place among all the orderings of that function, counted from
# 1, Relaxed ones included). Such a variant must be listed in mistakes/mutants/PROJECT.toml
# (`[[survivors]]` with file, mutant, kind "equivalent" or "uncatchable", reason), as
# scripts/mutants.sh's survivors are; the script exits non-zero while one is not.
#
# Environment: ORDERINGS_TIMEOUT (seconds per loom run, default 600), ORDERINGS_LIST=1 (only list
# the orderings and the variants each stage would run). A break-it stage whose loom check must
# find the learner's bug (`breaks = { check = "loom", ... }`) is skipped. Logs: solutions/target/orderings/PROJECT/
# STEM/ (baseline.log, one NN.log per variant, summary.txt). One variant at a time, under
# `nice -n 19`; one run of the script at a time.
set -euo pipefail

usage() {
    echo "usage: scripts/orderings.sh PROJECT [STAGE_FILE]" >&2
    exit 2
}
[[ $# -ge 1 && $# -le 2 ]] || usage
project=$1
only=${2:-}

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# info.toml: the project's dir, and its stages as `stage name file checks` lines, in order.
read_info() {
    awk -v want="$project" '
        function flush() {
            if (sect == "p" && name == want) print "dir", dir
            if (sect == "s" && proj == want)
                print "stage", name, file, (checks !~ /"loom"/ ? "-" : breaks ~ /"loom"/ ? "break" : "loom")
            name = ""; dir = ""; proj = ""; file = ""; checks = ""; breaks = ""
        }
        /^\[\[/ { flush() }
        /^\[\[projects\]\]/ { sect = "p"; next }
        /^\[\[stages\]\]/ { sect = "s"; next }
        /^\[\[/ { sect = ""; next }
        function val(line) { sub(/^[^=]*= *"/, "", line); sub(/".*$/, "", line); return line }
        /^name *=/ { name = val($0) }
        /^dir *=/ { dir = val($0) }
        /^project *=/ { proj = val($0) }
        /^file *=/ { file = val($0) }
        /^checks *=/ { checks = $0 }
        /^breaks *=/ { breaks = $0 }
        END { flush() }
    ' info.toml
}
info=$(read_info)
exdir=$(awk '$1 == "dir" { print $2 }' <<<"$info")
[[ -n $exdir ]] || { echo "no project named '$project' in info.toml" >&2; exit 2; }
crate_dir=${exdir#exercises/}           # NN_name
stages=$(awk '$1 == "stage" { print $2, $3, $4 }' <<<"$info")   # name file loom|break|-

if [[ -n $only ]]; then
    stages=$(awk -v o="$only" '{ f = $2; stem = f; sub(/^.*\//, "", stem); sub(/\.rs$/, "", stem)
        if ($1 == o || f == o || stem == o) print }' <<<"$stages")
    [[ -n $stages ]] || { echo "no stage '$only' in project '$project'" >&2; exit 2; }
fi
# A break-it stage whose loom check must find the learner's bug is not weakened: its solution
# is the wrong code, and its check passes when loom rejects it.
while read -r name file kind; do
    [[ $kind == break ]] && echo "== $project $name ($file): a break-it stage (its loom check expects a finding): skipped" >&2
done <<<"$stages"
stages=$(awk '$3 == "loom" { print $1, $2 }' <<<"$stages")
[[ -n $stages ]] || { echo "no stage of '$project'${only:+ named '$only'} has a loom check" >&2; exit 2; }

out_root=$root/solutions/target/orderings
work=$out_root/work
target_dir=$out_root/target
mkdir -p "$work"
exec 9>"$out_root/.lock"
flock -n 9 || { echo "another scripts/orderings.sh is running (it holds $out_root/.lock)" >&2; exit 2; }
find "$work" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
tar -C solutions --exclude=./target -cf - . | tar -C "$work" -xf -
# tar keeps the sources' times; the copy's files are new, so cargo never reuses a variant's build.
find "$work/$crate_dir" -name '*.rs' -exec touch {} +
# The dependencies (loom and its own) built once for the runner's loom checks, if there.
if [[ ! -d $target_dir && -d solutions/target/loom ]]; then
    cp -a solutions/target/loom "$target_dir"
fi

triage=mistakes/mutants/$project.toml
# shellcheck source=scripts/survivors.sh
source "$root/scripts/survivors.sh"
listed=$(listed_survivors "$triage")

# orderings FILE: one line per ordering outside the test modules:
#     line <TAB> column of the variant's name <TAB> variant <TAB> operation <TAB> function <TAB> nth
#     <TAB> the ordering as written (`Ordering::Acquire` or `Acquire`)
# The test modules are the `mod`s under a `#[cfg(...test...)]` attribute; as the stage files are
# laid out (code first, tests last), everything from the first of them on is test code.
orderings() {
    awk '
        BEGIN { V = "(Relaxed|Acquire|Release|AcqRel|SeqCst)" }
        { lines[NR] = $0 }
        END {
            n = NR
            for (i = 1; i <= NR; i++) {
                if (lines[i] ~ /^[[:space:]]*#\[cfg\(/ && lines[i] ~ /[(, ]test[,)]/ && lines[i] !~ /not\(test\)/) {
                    j = i + 1
                    while (j <= NR && lines[j] ~ /^[[:space:]]*#\[/) j++
                    if (lines[j] ~ /^[[:space:]]*(pub(\([^)]*\))? )?mod [A-Za-z_]/) { n = i - 1; break }
                }
            }
            bare = 0
            for (i = 1; i <= n; i++)
                if (lines[i] ~ /Ordering::(\{|\*)/ || lines[i] ~ /^[[:space:]]*(pub(\([^)]*\))? )?use .*Ordering::(Relaxed|Acquire|Release|AcqRel|SeqCst)/) bare = 1
            ctx = ""; impl = ""; fn = ""
            for (i = 1; i <= n; i++) {
                code = lines[i]
                sub(/\/\/.*$/, "", code)
                if (code ~ /^[[:space:]]*(pub(\([^)]*\))? )?use /) { ctx = ""; continue }
                if (code ~ /^impl/) {
                    s = code; sub(/\{.*$/, "", s)
                    while (gsub(/<[^<>]*>/, "", s)) {}
                    if (s ~ / for /) sub(/^.* for /, "", s); else sub(/^impl */, "", s)
                    sub(/[[:space:]].*$/, "", s); impl = s; fn = ""
                }
                if (code ~ /^\}/) { impl = ""; fn = "" }
                if (match(code, /(^|[^A-Za-z0-9_])fn +[A-Za-z_][A-Za-z0-9_]*/)) {
                    f = substr(code, RSTART, RLENGTH); sub(/^.*fn +/, "", f)
                    fn = (code ~ /^[^[:space:]]/ || impl == "") ? f : impl "::" f
                    if (code ~ /^[^[:space:]]/) impl = ""
                }
                # every ordering of the line, left to right
                rest = code; off = 0
                pat = bare ? "(^|[^A-Za-z0-9_:])(Ordering::)?" V "([^A-Za-z0-9_]|$)" : "Ordering::" V "([^A-Za-z0-9_]|$)"
                while (match(rest, pat)) {
                    tok = substr(rest, RSTART, RLENGTH)
                    lead = 0
                    if (bare && tok ~ /^[^A-Za-z]/) lead = 1
                    t = substr(tok, lead + 1)
                    sub(/[^A-Za-z0-9_:]$/, "", t)
                    name = t; sub(/^Ordering::/, "", name)
                    start = off + RSTART + lead               # column of t
                    col = start + length(t) - length(name)    # column of the variant name
                    before = ctx " " substr(code, 1, start - 1)
                    op = operation(before)
                    key = (fn == "" ? "(top level)" : fn)
                    nth[key]++
                    printf "%d\t%d\t%s\t%s\t%s\t%d\t%s\n", i, col, name, op, key, nth[key], t
                    adv = RSTART + RLENGTH - 1
                    if (adv < 1) adv = 1
                    off += adv; rest = substr(rest, adv + 1)
                }
                if (code ~ /^[[:space:]]*$/) continue
                ctx = ctx " " code
                if (length(ctx) > 600) ctx = substr(ctx, length(ctx) - 599)
            }
        }
        # The innermost call still open at the end of s that takes an ordering.
        function operation(s,    best, bestpos, p, k, names, kinds, m, depth, c, after, cnt) {
            split("fence( .load( .store( .swap( .fetch_ .compare_exchange_weak( .compare_exchange( .fetch_update(", names, " ")
            split("fence load store rmw rmw cas cas cas", kinds, " ")
            best = ""; bestpos = 0
            for (k = 1; k in names; k++) {
                p = lastindex(s, names[k])
                if (names[k] == "fence(" && p > 1 && substr(s, p - 1, 1) ~ /[A-Za-z0-9_.]/) p = 0
                if (p > bestpos) { bestpos = p; best = kinds[k] }
            }
            if (best == "") return "unknown"
            # the call must still be open: count the parentheses after its name
            after = substr(s, bestpos)
            m = index(after, "(")
            depth = 0
            for (c = m; c <= length(after); c++) {
                ch = substr(after, c, 1)
                if (ch == "(") depth++
                else if (ch == ")") { depth--; if (depth == 0) return "unknown" }
            }
            if (depth != 1) return "unknown"
            if (best == "cas") {
                cnt = gsub(/(Relaxed|Acquire|Release|AcqRel|SeqCst)([^A-Za-z0-9_]|$)/, "&", after)
                if (cnt == 0) return "cas-success"
                if (cnt == 1) return "cas-failure"
                return "unknown"
            }
            return best
        }
        function lastindex(s, t,    p, q) {
            p = 0
            while ((q = index(substr(s, p + 1), t)) > 0) p += q
            return p
        }
    ' "$1"
}

# weaker OPERATION ORDERING: the strictly weaker orderings valid for that operation.
weaker() {
    case $1:$2 in
    load:SeqCst) echo Acquire Relaxed ;;
    load:Acquire) echo Relaxed ;;
    store:SeqCst) echo Release Relaxed ;;
    store:Release) echo Relaxed ;;
    rmw:SeqCst | cas-success:SeqCst) echo AcqRel Acquire Release Relaxed ;;
    rmw:AcqRel | cas-success:AcqRel) echo Acquire Release Relaxed ;;
    rmw:Acquire | rmw:Release | cas-success:Acquire | cas-success:Release) echo Relaxed ;;
    cas-failure:SeqCst) echo Acquire Relaxed ;;
    cas-failure:Acquire) echo Relaxed ;;
    fence:SeqCst) echo AcqRel Acquire Release ;;
    fence:AcqRel) echo Acquire Release ;;
    *) echo ;;
    esac
}

describe() {
    case $1 in
    load) echo "the load" ;;
    store) echo "the store" ;;
    rmw) echo "the read-modify-write" ;;
    cas-success) echo "the compare-exchange's success ordering" ;;
    cas-failure) echo "the compare-exchange's failure ordering" ;;
    fence) echo "the fence" ;;
    *) echo "an unknown operation" ;;
    esac
}

# run_loom STEM LOG: the stage's loom check in the copy, as the runner runs it.
run_loom() {
    local rc=0
    (cd "$work" && RUSTFLAGS="--cfg mastery_loom" LOOM_MAX_PREEMPTIONS=2 LOOM_LOCATION=1 \
        CARGO_TARGET_DIR="$target_dir" RUST_BACKTRACE=0 timeout "${ORDERINGS_TIMEOUT:-600}" \
        nice -n 19 cargo test --release -p "$project" --lib -- "$1::") >"$2" 2>&1 9>&- || rc=$?
    return $rc
}

# classify RC LOG: the outcome of a loom run, and what loom found.
classify() {
    local rc=$1 log=$2 what test
    if [[ $rc -eq 124 ]]; then
        echo "timeout"
    elif grep -q 'there is no such thing as' "$log"; then
        echo "invalid ($(grep -o 'there is no such thing as[^"]*' "$log" | head -1))"
    elif grep -qE '^error(\[E[0-9]+\])?: could not compile|^error\[E[0-9]+\]' "$log"; then
        echo "invalid (does not build: $(grep -m1 -E '^error' "$log"))"
    elif [[ $rc -eq 0 ]] && grep -q 'test result: ok' "$log"; then
        echo "passed"
    elif grep -qE 'test result: FAILED|panicked at' "$log"; then
        # The first failing test, and loom's report or the first panic's message.
        test=$(grep -m1 -oE "^test [^ ]+ \.\.\. FAILED|^thread '[^']+' .*panicked at" "$log" |
            sed -E "s/^test ([^ ]+) .*/\1/; s/^thread '([^']+)'.*/\1/; s/.*:://")
        what=$(grep -m1 -oiE 'causality violation|deadlock|Model exceeded maximum number of branches' "$log" || true)
        if [[ -z $what ]]; then
            what=$(grep -m1 -A1 'panicked at' "$log" | tail -1 | cut -c1-100)
        fi
        grep -q 'SIGABRT' "$log" && what+="; aborted"
        echo "rejected ($test: $what)"
    else
        echo "error (exit $rc, no test result; see the log)"
    fi
}

status=0
summary_all=$out_root/$project/summary.txt
mkdir -p "$out_root/$project"
: >"$summary_all.new"
while read -r stage file; do
    stem=${file##*/}
    stem=${stem%.rs}
    src=$work/$crate_dir/$file
    out=$out_root/$project/$stem
    rm -rf "$out"
    mkdir -p "$out"
    found=$(orderings "$src")
    echo "== $project $stage ($file): $(grep -c . <<<"$found" || true) orderings outside the tests" >&2
    if [[ -n ${ORDERINGS_LIST:-} ]]; then
        while IFS=$'\t' read -r line col name op fn nth written; do
            [[ -n $line ]] || continue
            printf '  %s:%s  %-17s %-12s ordering %d of %s -> %s\n' "$file" "$line" "$written" "$op" \
                "$nth" "$fn" "$(weaker "$op" "$name" | sed 's/^$/(nothing weaker)/')"
        done <<<"$found"
        continue
    fi
    start=$SECONDS
    rc=0
    run_loom "$stem" "$out/baseline.log" || rc=$?
    if [[ $rc -ne 0 ]] || ! grep -q 'test result: ok' "$out/baseline.log"; then
        echo "  the unchanged stage does not pass its loom check (exit $rc; $out/baseline.log):" >&2
        tail -15 "$out/baseline.log" >&2
        status=1
        continue
    fi
    echo "  unchanged: loom passes ($((SECONDS - start)) s)" >&2
    cp "$src" "$out/orig.rs"
    variants=0 rejected=0 passed=0 passed_listed=0 invalid=0 timeout=0 errors=0 unknown=0
    while IFS=$'\t' read -r line col name op fn nth written; do
        [[ -n $line ]] || continue
        if [[ $op == unknown && $name != Relaxed ]]; then
            unknown=$((unknown + 1))
            echo "  $file:$line  $written in $fn: its operation is not known from the text; not weakened" | tee -a "$out/summary.txt"
        fi
        for w in $(weaker "$op" "$name"); do
            variants=$((variants + 1))
            prefix=${written%"$name"}
            mutant="$written -> $prefix$w in $(describe "$op"), ordering $nth of $fn"
            awk -v l="$line" -v c="$col" -v n="${#name}" -v w="$w" \
                'NR == l { $0 = substr($0, 1, c - 1) w substr($0, c + n) } { print }' \
                "$out/orig.rs" >"$src"
            log=$out/$(printf '%02d' "$variants").log
            start=$SECONDS
            rc=0
            run_loom "$stem" "$log" || rc=$?
            cp "$out/orig.rs" "$src"
            outcome=$(classify "$rc" "$log")
            case $outcome in
            rejected*) rejected=$((rejected + 1)) ;;
            invalid*) invalid=$((invalid + 1)) ;;
            timeout*) timeout=$((timeout + 1)) ;;
            error*) errors=$((errors + 1)); status=1 ;;
            passed)
                passed=$((passed + 1))
                entry=$(grep -F "$file"$'\t'"$mutant"$'\t' <<<"$listed" | head -1 || true)
                if [[ -n $entry ]]; then
                    passed_listed=$((passed_listed + 1))
                    outcome="passed, listed as ${entry##*$'\t'}"
                else
                    outcome="PASSED, NOT LISTED in $triage"
                    status=1
                fi
                ;;
            esac
            echo "  $file:$line  $mutant: $outcome ($((SECONDS - start)) s; $log)" | tee -a "$out/summary.txt"
        done
    done <<<"$found"
    line=$(printf '%-16s variants %3d  rejected %3d  passed %3d (%d listed)  invalid %3d  timeout %3d' \
        "$stem" "$variants" "$rejected" "$passed" "$passed_listed" "$invalid" "$timeout")
    [[ $errors -eq 0 ]] || line+="  errors $errors"
    [[ $unknown -eq 0 ]] || line+="  unknown operations $unknown"
    echo "$line" | tee -a "$summary_all.new"
done <<<"$stages"

[[ -n ${ORDERINGS_LIST:-} ]] || mv "$summary_all.new" "$summary_all"
exit $status
