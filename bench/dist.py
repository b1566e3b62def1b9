#!/usr/bin/env python3
"""The `dist` profile against `release`: binary size and start-up (BENCHMARKS.md, section 5).

    python3 bench/dist.py [--runs 30] [--no-build]

Builds `--profile release` and `--profile dist` (`cargo build --locked --bin brokerwatch`, build
time on stderr; nothing is rebuilt when nothing changed), then for each binary, and for a stripped copy
of the release one: its size, `brokerwatch --version` (exec and dynamic loading only), and
`brokerwatch run` on demo/config.yaml from spawn to its `brokerwatch running` log line (config,
the rule packs' regexes, the runtime; each run in a fresh state dir). Prints a Markdown table.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def build(profile):
    t = time.monotonic()
    subprocess.run(
        ["cargo", "build", "--locked", "--profile", profile, "--bin", "brokerwatch"],
        cwd=ROOT,
        check=True,
    )
    return time.monotonic() - t


def version_ms(binary):
    t = time.monotonic()
    subprocess.run([binary, "--version"], check=True, stdout=subprocess.DEVNULL)
    return (time.monotonic() - t) * 1000


def run_ms(binary, scratch):
    state = tempfile.mkdtemp(dir=scratch)
    cfg = os.path.join(state, "config.yaml")
    with open(os.path.join(ROOT, "demo", "config.yaml")) as f:
        text = f.read().replace("./maildir", os.path.join(ROOT, "demo", "maildir"))
    with open(cfg, "w") as f:
        f.write(text.replace("./.state", os.path.join(state, "s")))
    env = dict(os.environ, RUST_LOG="info")
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    t = time.monotonic()
    p = subprocess.Popen(
        [binary, "--config", cfg, "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        for line in p.stderr:
            if "brokerwatch running" in line:
                return (time.monotonic() - t) * 1000
        raise SystemExit(f"{binary}: no `brokerwatch running` line")
    finally:
        p.terminate()
        p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    if not a.no_build:
        for profile in ["release", "dist"]:
            print(f"{profile}: cargo build {build(profile):.0f} s", file=sys.stderr)
    scratch = tempfile.mkdtemp()
    stripped = os.path.join(scratch, "brokerwatch-release-stripped")
    shutil.copy(os.path.join(TARGET, "release", "brokerwatch"), stripped)
    subprocess.run(["strip", stripped], check=True)
    binaries = [
        ("release (as built)", os.path.join(TARGET, "release", "brokerwatch")),
        ("release, stripped", stripped),
        ("dist", os.path.join(TARGET, "dist", "brokerwatch")),
    ]
    print("| binary | size MB | --version p50 ms | run → running p50 ms (min–max) |")
    print("|---|---|---|---|")
    for label, path in binaries:
        size = os.path.getsize(path) / 1e6
        for _ in range(3):  # page cache warm-up, not counted
            version_ms(path)
        ver = statistics.median(version_ms(path) for _ in range(a.runs))
        runs = [run_ms(path, scratch) for _ in range(a.runs)]
        print(
            f"| {label} | {size:.1f} | {ver:.1f} | "
            f"{statistics.median(runs):.0f} ({min(runs):.0f}–{max(runs):.0f}) |"
        )
        sys.stdout.flush()
    shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
