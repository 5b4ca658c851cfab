#!/usr/bin/env python3
"""Find the corpus mistakes that real threads reject before loom or Miri does.

`mastery dev check` proves each mistake of mistakes/PROJECT.toml is rejected first by the check
it names. A race that loom or Miri judges can also lose on real threads, so the stage's `test`
check (which runs first) rejects it now and then, and CI goes red by chance, unless the mistake
says so with `native_race` (see COURSE_FORMAT.md, "The mistakes corpus").

For each mistake caught by `loom` or `miri` in a stage that runs `test` before that check, this
script applies the mistake's edits to a scratch copy of solutions/ (solutions/target/race-probe/),
builds the crate's unit tests once, runs them N times with the stage's filter (a run that fails,
crashes or outlives the stage's time limit is a native rejection), restores the file, and prints
how often the native tests rejected it. It exits 1 if a mistake was rejected natively at least
once and has no `native_race`. A race that needs a thread preempted at the wrong line shows more
often on a loaded machine: --jobs J runs J at once.

    scripts/race-probe.py mpsc                       # every such mistake of the project
    scripts/race-probe.py mpsc --stage mpsc-queue --runs 50
    scripts/race-probe.py capstone --jobs 3          # three runs at once: a loaded machine

Run it from anywhere in the course; it builds under `nice`, one crate at a time.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / "solutions" / "target" / "race-probe"
DEFAULT_TEST_SECS = 60  # the runner's time limit for a `test` check without `timeout_secs`
TELLING = ("panicked at", "timed out", "signal:", "FAILED")  # lines that say why a run failed


def load(path):
    with open(path, "rb") as f:
        return tomllib.load(f)


def scratch_copy():
    """A fresh copy of solutions/ (sources only), keeping its own target/ between runs."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    for entry in SCRATCH.iterdir():
        if entry.name != "target":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    src = ROOT / "solutions"
    for entry in src.iterdir():
        if entry.name == "target":
            continue
        dst = SCRATCH / entry.name
        shutil.copytree(entry, dst) if entry.is_dir() else shutil.copy2(entry, dst)


def apply(text, edits):
    """The edits applied in turn, each `find` exactly once, as `mastery dev mistakes` does."""
    for i, edit in enumerate(edits, 1):
        n = text.count(edit["find"])
        if n != 1:
            raise ValueError(f"edit {i} finds its text {n} times, not once")
        text = text.replace(edit["find"], edit["replace"], 1)
    return text


def build(package, env):
    """Builds the crate's unit tests; the test binary's path, or None with cargo's errors."""
    cmd = ["cargo", "test", "-p", package, "--lib", "--no-run", "--message-format=json"]
    done = subprocess.run(cmd, cwd=SCRATCH, env=env, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        msg = json.loads(line) if line.startswith("{") else {}
        target = msg.get("target", {})
        if (msg.get("reason") == "compiler-artifact" and msg.get("executable")
                and msg["profile"]["test"] and "lib" in target.get("kind", [])
                and target.get("name") == package):
            return msg["executable"], ""
    return None, done.stderr[-3000:]


def run_once(binary, module, limit, env):
    """Whether one run of the stage's unit tests rejects the code (failure, crash or timeout),
    and what it printed."""
    proc = subprocess.Popen([binary, module, "--color=never"], cwd=SCRATCH, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=limit)
        return proc.returncode != 0, out
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, _ = proc.communicate()
        return True, out + f"\n(timed out after {limit} s)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("project")
    ap.add_argument("--stage", help="only this stage's mistakes")
    ap.add_argument("--mistake", help="only the mistakes of this name")
    ap.add_argument("--runs", type=int, default=20, help="native runs per mistake (20)")
    ap.add_argument("--jobs", type=int, default=1,
                    help="runs at once (1); more load the machine as CI's is loaded")
    args = ap.parse_args()

    info = load(ROOT / "info.toml")
    project = next((p for p in info["projects"] if p["name"] == args.project), None)
    if project is None:
        sys.exit(f"no project `{args.project}` in info.toml")
    stages = {s["name"]: s for s in info["stages"] if s["project"] == args.project}
    if args.stage and args.stage not in stages:
        sys.exit(f"no stage `{args.stage}` in project `{args.project}`")

    def racy(m):
        checks = stages[m["stage"]]["checks"]
        return (m["caught_by"] in ("loom", "miri") and "test" in checks
                and checks.index("test") < checks.index(m["caught_by"]))

    corpus = load(ROOT / "mistakes" / f"{args.project}.toml").get("mistakes", [])
    probed = [m for m in corpus if racy(m) and args.stage in (None, m["stage"])
              and args.mistake in (None, m["name"])]
    if not probed:
        print("no mistake judged by loom or Miri after `test`: nothing to probe")
        return 0

    os.nice(10)
    scratch_copy()
    crate_dir = SCRATCH / Path(project["dir"]).name
    env = dict(os.environ, CARGO_TARGET_DIR=str(SCRATCH / "target"), RUST_BACKTRACE="0")
    env.pop("RUSTFLAGS", None)
    unmarked, clock = [], time.monotonic()
    for m in probed:
        stage = stages[m["stage"]]
        module = Path(stage["file"]).stem + "::"
        limit = stage.get("timeout_secs", DEFAULT_TEST_SECS)
        target = crate_dir / m.get("file", stage["file"])
        solution = target.read_text()
        ident = f"{m['stage']}/{m['name']}"
        try:
            target.write_text(apply(solution, m["edits"]))
            binary, errors = build(args.project, env)
            if binary is None:
                print(f"{ident}: does not build\n{errors}")
                unmarked.append(ident)
                continue
            rejected, silent, first = 0, 0, ""
            with ThreadPoolExecutor(args.jobs) as pool:
                runs = list(pool.map(lambda _: run_once(binary, module, limit, env),
                                     range(args.runs)))
            for failed, out in runs:
                rejected += failed
                silent += failed and f"{module[:-2]}::tests::" not in out
                first = first or (out if failed else "")
        except ValueError as e:
            print(f"{ident}: {e}")
            unmarked.append(ident)
            continue
        finally:
            target.write_text(solution)
        marked = "native_race" in m
        verdict = f"native_race = {m['native_race']!r}" if marked else "no native_race"
        print(f"{ident}: rejected natively {rejected}/{args.runs} ({verdict})", flush=True)
        said = [line for line in first.splitlines() if any(w in line for w in TELLING)]
        print("".join(f"    {line.strip()}\n" for line in said[:3]), end="")
        if silent:
            print(f"    {silent} of those runs do not name `{module[:-2]}::tests::`")
        if rejected and not marked:
            unmarked.append(ident)
    print(f"{len(probed)} mistakes probed in {time.monotonic() - clock:.0f} s")
    if unmarked:
        print("rejected natively (or broken) without `native_race`:")
        print("".join(f"    {u}\n" for u in unmarked), end="")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
