#!/usr/bin/env bash
# Mutation testing of the reference solutions, stage by stage, with cargo-mutants.
#
#     scripts/mutants.sh PROJECT [STAGE_FILE]     e.g. scripts/mutants.sh iterators src/s03_fold.rs
#
# For each stage of PROJECT (or only STAGE_FILE: `src/s03_fold.rs`, `s03_fold` or the stage's
# name), cargo-mutants mutates only that stage's file and judges each mutant by only that stage's
# unit tests (`cargo test -p PROJECT --lib -- sNN_topic::`), as a learner's stage is judged.
# Prints caught / missed / unviable / timeout per stage and the crate's score, caught / viable
# (viable = caught + missed + timeout). Missed mutants listed in mistakes/mutants/PROJECT.toml
# (equivalent to the solution, each with its reason) are marked as such; any other is a hole in
# the stage's tests. See COURSE_FORMAT.md, "Mutation testing".
#
# The mutants are applied in a copy of solutions/ (solutions/target/mutants/work, rebuilt from the
# source at every run, its target dir kept), never in the source tree. Results:
# solutions/target/mutants/PROJECT/STEM/mutants.out/ (caught.txt, missed.txt, outcomes.json, ...)
# and solutions/target/mutants/PROJECT/summary.txt.
#
# A missed mutant listed with kind "miri" or "loom" is a claim that the stage's Miri or loom
# check rejects it: the script proves it, applying the mutant in the copy and running that check
# (as the runner does: the project's and the stage's miri_flags; --cfg mastery_loom). One the
# check does not reject counts as a hole.
#
# Environment: MUTANTS_TIMEOUT (seconds per test run, default 20), MUTANTS_BUILD_TIMEOUT
# (seconds per build, default 300), MUTANTS_LIST=1 (only list the mutants each stage would run),
# MUTANTS_VERIFY=1 (run no mutants: prove the "miri" and "loom" survivors of the last run again).
# One mutant at a time (`--in-place` in the copy), under `nice`; one run of the script at a time
# (a second run stops at once: both would rebuild the same copy; the lock is not inherited by
# the tests, so a test's orphaned child cannot hold it).
set -euo pipefail

usage() {
    echo "usage: scripts/mutants.sh PROJECT [STAGE_FILE]" >&2
    exit 2
}
[[ $# -ge 1 && $# -le 2 ]] || usage
project=$1
only=${2:-}

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! cargo mutants --version >/dev/null 2>&1; then
    echo "cargo-mutants is not installed; installing it (cargo install cargo-mutants --locked)" >&2
    cargo install cargo-mutants --locked
fi

# info.toml: the project's dir, and its stages as `name file` lines, in order.
read_info() {
    awk -v want="$project" '
        function flush() {
            if (sect == "p" && name == want) print "dir", dir, flags
            if (sect == "s" && proj == want) print "stage", name, file, flags
            name = ""; dir = ""; proj = ""; file = ""; flags = ""
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
        /^miri_flags *=/ { flags = $0; sub(/^[^[]*\[/, "", flags); sub(/\].*$/, "", flags)
                           gsub(/[",]/, " ", flags); gsub(/  +/, " ", flags) }
        END { flush() }
    ' info.toml
}
info=$(read_info)
exdir=$(awk '$1 == "dir" { print $2 }' <<<"$info")
project_flags=$(awk '$1 == "dir" { $1 = ""; $2 = ""; sub(/^ +/, ""); print }' <<<"$info")
[[ -n $exdir ]] || { echo "no project named '$project' in info.toml" >&2; exit 2; }
crate_dir=${exdir#exercises/}           # NN_name
stages=$(awk '$1 == "stage" { $1 = ""; sub(/^ +/, ""); print }' <<<"$info")   # name file [flags]

if [[ -n $only ]]; then
    stages=$(awk -v o="$only" '{ f = $2; stem = f; sub(/^.*\//, "", stem); sub(/\.rs$/, "", stem)
        if ($1 == o || f == o || stem == o) print }' <<<"$stages")
    [[ -n $stages ]] || { echo "no stage '$only' in project '$project'" >&2; exit 2; }
fi

out_root=$root/solutions/target/mutants
work=$out_root/work
mkdir -p "$work"
# One run at a time: every run rebuilds the shared copy below.
exec 9>"$out_root/.lock"
flock -n 9 || { echo "another scripts/mutants.sh is running (it holds $out_root/.lock)" >&2; exit 2; }
# A fresh copy of the solutions workspace (its build cache kept): a mutant interrupted mid-run
# never reaches the source tree, and the next run starts from the source again.
find "$work" -mindepth 1 -maxdepth 1 ! -name target -exec rm -rf {} +
tar -C solutions --exclude=./target -cf - . | tar -C "$work" -xf -
# tar keeps the sources' times: a file the last run mutated and restored would look unchanged to
# cargo, and the baseline would run the last mutant's binary. The project's files are new now.
find "$work/$crate_dir" -name '*.rs' -exec touch {} +

triage=mistakes/mutants/$project.toml
# shellcheck source=scripts/survivors.sh
source "$root/scripts/survivors.sh"
equiv=$(listed_survivors "$triage")

# The modules of a stage file compiled only for tests (`#[cfg(test)]`, `#[cfg(all(test, ...))]`,
# `#[cfg(any(test, ...))]`, other attributes in between), as `a|b` for a regex.
test_modules() {
    awk '
        /^[[:space:]]*#\[cfg\(/ && /[(, ]test[,)]/ && !/not\(test\)/ { armed = 1; next }
        armed && /^[[:space:]]*#\[/ { next }
        armed && match($0, /^[[:space:]]*(pub(\([^)]*\))? )?mod [A-Za-z_][A-Za-z0-9_]*/) {
            m = substr($0, RSTART, RLENGTH); sub(/.*mod /, "", m); print m
        }
        { armed = 0 }
    ' "$1" | sort -u | paste -sd'|' -
}

count() { if [[ -f $1 ]]; then grep -c . "$1" || true; else echo 0; fi; }

# prove_survivor KIND LINE STEM OUT STAGE_FLAGS: applies the missed mutant LINE (as missed.txt has
# it) in the copy, runs the stage's KIND check (miri or loom) as the runner does, restores the
# file. Succeeds when the check rejects the mutant.
prove_survivor() {
    local kind=$1 line=$2 stem=$3 out=$4 sflags=$5
    local path=${line%%: *}                     # 07_runtime/src/s09_net.rs:49:9
    local mutant=${line#*: }
    local src=${path%%:*}
    local at=${path#*:}
    local prefix=${src//\//__}_line_${at%%:*}_col_${at#*:}
    local diff="" d
    for d in "$out/mutants.out/diff/$prefix".diff "$out/mutants.out/diff/$prefix"_*.diff; do
        if [[ -f $d ]] && grep -qxF "+++ $mutant" "$d"; then diff=$d; break; fi
    done
    if [[ -z $diff ]]; then
        echo "    no diff found for: $line" >&2
        return 1
    fi
    local target=$work/$src
    cp "$target" "$target.orig"
    if ! patch -s --no-backup-if-mismatch "$target" <"$diff" >/dev/null; then
        mv "$target.orig" "$target"
        echo "    the mutant no longer applies to $src (the solution changed since the run): $line" >&2
        return 1
    fi
    local rc=0 start=$SECONDS
    case $kind in
    miri)
        local flags
        flags=$(tr ' ' '\n' <<<"$project_flags $sflags" | awk 'NF && !seen[$0]++' | paste -sd' ' -)
        (cd "$work" && MIRIFLAGS="$flags" RUST_BACKTRACE=0 timeout 900 nice -n 10 \
            cargo +nightly miri test -p "$project" -- "$stem") >"$out/prove.log" 2>&1 9>&- || rc=$?
        ;;
    loom)
        (cd "$work" && RUSTFLAGS="--cfg mastery_loom" LOOM_MAX_PREEMPTIONS=2 LOOM_LOCATION=1 \
            CARGO_TARGET_DIR="$work/target/loom" RUST_BACKTRACE=0 timeout 900 nice -n 10 \
            cargo test --release -p "$project" --lib -- "$stem::") >"$out/prove.log" 2>&1 9>&- || rc=$?
        ;;
    esac
    mv "$target.orig" "$target"
    if [[ $rc -eq 0 ]]; then
        echo "    NOT REJECTED by $kind: $line (log: $out/prove.log)" >&2
        return 1
    fi
    # A failure that is not a finding (no nightly, a build error) proves nothing.
    if ! grep -qE 'test result: FAILED|Undefined Behavior|memory leaked|panicked at' "$out/prove.log"; then
        echo "    $kind failed without a finding (exit $rc) for: $line (log: $out/prove.log)" >&2
        return 1
    fi
    echo "    proven: $kind rejects $mutant ($((SECONDS - start)) s)" >&2
}

summary=$out_root/$project/summary.txt
mkdir -p "$out_root/$project"
: >"$summary.new"
total_caught=0 total_missed=0 total_unviable=0 total_timeout=0 total_equiv=0
while read -r stage file sflags; do
    stem=${file##*/}
    stem=${stem%.rs}
    out=$out_root/$project/$stem
    if [[ -n ${MUTANTS_VERIFY:-} ]]; then
        [[ -f $out/mutants.out/outcomes.json ]] ||
            { echo "== $project $stage: no earlier run in $out, nothing to prove" >&2; continue; }
        echo "== $project $stage ($file): proving the miri and loom survivors of the last run" >&2
    else
        rm -rf "$out"
        mkdir -p "$out"
        echo "== $project $stage ($file): mutants of $file, judged by --lib -- $stem::" >&2
    fi
    # cargo-mutants skips only `#[cfg(test)]` items as test code: the stage's other test modules
    # (`#[cfg(all(test, not(mastery_loom)))] mod tests`, `#[cfg(all(test, mastery_loom))] mod
    # loom_tests`) are excluded by name. (Test-only files such as test_support.rs are never
    # mutated: `--file` confines the run to the stage's own file.)
    # A stage whose code lives in a helper crate of the project (the proc-macro's
    # `derive/src/s08_derive.rs`) mutates that crate, still judged by the project's tests.
    mutate_pkg=$project
    if [[ $file == */src/* ]]; then
        sub_manifest=$work/$crate_dir/${file%%/src/*}/Cargo.toml
        mutate_pkg=$(awk -F'"' '/^name *=/ { print $2; exit }' "$sub_manifest")
    fi
    test_mods=$(test_modules "$work/$crate_dir/$file")
    exclude=()
    if [[ -n $test_mods ]]; then
        exclude=(--exclude-re "(: replace | in )($test_mods)::")
    fi
    if [[ -n ${MUTANTS_LIST:-} ]]; then
        cargo mutants --dir "$work/$crate_dir" --package "$mutate_pkg" --file "$crate_dir/$file" \
            "${exclude[@]}" --list
        continue
    fi
    rc=0
    # cargo mutants [OPTIONS] -- [cargo test args] -- [test binary args]
    [[ -n ${MUTANTS_VERIFY:-} ]] || nice -n 10 cargo mutants \
        --dir "$work/$crate_dir" \
        --package "$mutate_pkg" \
        --test-package "$project" \
        --file "$crate_dir/$file" \
        "${exclude[@]}" \
        --in-place \
        --no-shuffle \
        --cap-lints=true \
        --timeout "${MUTANTS_TIMEOUT:-20}" \
        --build-timeout "${MUTANTS_BUILD_TIMEOUT:-300}" \
        --output "$out" \
        -- --lib -- "$stem::" >"$out/cargo-mutants.log" 2>&1 9>&- || rc=$?
    # 0: all caught; 2: missed; 3: timeouts; anything else is a failure of the run itself.
    if [[ $rc -ne 0 && $rc -ne 2 && $rc -ne 3 ]]; then
        echo "cargo mutants failed (exit $rc) for $file; see $out/cargo-mutants.log:" >&2
        tail -20 "$out/cargo-mutants.log" >&2
        exit 1
    fi
    m=$out/mutants.out
    caught=$(count "$m/caught.txt")
    missed=$(count "$m/missed.txt")
    unviable=$(count "$m/unviable.txt")
    timeout=$(count "$m/timeout.txt")
    listed=0
    untriaged=()
    if [[ -f $m/missed.txt ]]; then
        while IFS= read -r line; do
            mfile=${line%%:*}
            mfile=${mfile#"$crate_dir/"}
            mutant=$(sed -E 's/^[^:]+:[0-9]+:[0-9]+: //' <<<"$line")
            entry=$(grep -F "$mfile"$'\t'"$mutant"$'\t' <<<"$equiv" | head -1 || true)
            kind=${entry##*$'\t'}
            if [[ -z $entry ]]; then
                untriaged+=("$line")
            elif [[ $kind == miri || $kind == loom ]] &&
                ! prove_survivor "$kind" "$line" "$stem" "$out" "$sflags" </dev/null; then
                untriaged+=("$line (listed as caught by $kind, which does not reject it)")
            else
                listed=$((listed + 1))
            fi
        done <"$m/missed.txt"
    fi
    viable=$((caught + missed + timeout))
    line=$(printf '%-28s caught %3d  missed %3d (%d triaged)  unviable %3d  timeout %3d' \
        "$stem" "$caught" "$missed" "$listed" "$unviable" "$timeout")
    echo "$line" | tee -a "$summary.new"
    for u in "${untriaged[@]}"; do
        echo "    MISSED  $u" | tee -a "$summary.new"
    done
    [[ $timeout -eq 0 ]] || sed 's/^/    TIMEOUT /' "$m/timeout.txt" | tee -a "$summary.new"
    total_caught=$((total_caught + caught))
    total_missed=$((total_missed + missed))
    total_unviable=$((total_unviable + unviable))
    total_timeout=$((total_timeout + timeout))
    total_equiv=$((total_equiv + listed))
done <<<"$stages"

[[ -z ${MUTANTS_LIST:-} ]] || exit 0
viable=$((total_caught + total_missed + total_timeout))
if [[ $viable -gt 0 ]]; then
    score=$(awk -v c=$total_caught -v v=$viable 'BEGIN { printf "%.1f", 100 * c / v }')
else
    score=-
fi
printf '%s: caught %d / viable %d = %s%%  (missed %d, %d of them triaged; timeout %d; unviable %d)\n' \
    "$project" "$total_caught" "$viable" "$score" "$total_missed" "$total_equiv" "$total_timeout" \
    "$total_unviable" | tee -a "$summary.new"
mv "$summary.new" "$summary"
untriaged_total=$((total_missed - total_equiv))
[[ $untriaged_total -eq 0 ]]
