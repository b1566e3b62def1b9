#!/usr/bin/env python3
"""Cold start to READY=1 only (the footprint benchmark's `cold_start`, without its idle runs),
several binaries interleaved run by run so that they share the same load.

    python3 bench/ready.py [--runs 30] [--baseline LABEL=PATH ...] [--no-build]

Each run: a fresh state dir, `brokerwatch run` watching INBOX of one Dovecot user (as in
bench/footprint.py), spawn → READY=1 on NOTIFY_SOCKET (wall), and the CPU the process had used
when READY arrived (the sum over its threads of /proc/<pid>/task/*/schedstat, ns precision:
steadier than wall time on a shared machine). Prints p50/p95/min/max of both per binary and the
load average before and after.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
from benchlib import BROKERWATCH, Env, log, percentile  # noqa: E402
from footprint import Daemon, write_config  # noqa: E402


def cpu_ms(pid):
    """CPU time (ms) the process's threads have used so far."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int(Path(task, "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / 1e6


def one_start(cfg, tmp, binary):
    shutil.rmtree(tmp / "state", ignore_errors=True)
    d = Daemon(cfg, tmp, binary)
    try:
        t = d.notify.wait_for("READY=1", 30)
        if t is None:
            raise RuntimeError(f"{binary}: no READY=1:\n" + "".join(d.lines[-20:]))
        cpu = cpu_ms(d.proc.pid)
        return (t - d.started) * 1000, cpu
    finally:
        d.stop()


def stats(values):
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "min": min(values),
        "max": max(values),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--baseline", action="append", default=[], help="LABEL=PATH of another binary")
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    if not args.no_build:
        benchlib.build()
    binaries = [("current", BROKERWATCH)]
    for b in args.baseline:
        label, path = b.split("=", 1)
        binaries.append((label, Path(path)))
    results = {label: ([], []) for label, _ in binaries}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bw-ready") as tmpdir, Env.with_args(
        "--users", 1, "--idle-notify", 3600
    ) as env:
        tmp = Path(tmpdir)
        cfgs = {label: write_config(tmp / label, env, ["user001"]) for label, _ in binaries}
        for i in range(args.runs):
            for label, binary in binaries:
                wall, cpu = one_start(cfgs[label], tmp / label, binary)
                results[label][0].append(wall)
                results[label][1].append(cpu)
            time.sleep(0.2)
    load_after = os.getloadavg()
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f}; {args.runs} runs each, interleaved")
    print(f"{'binary':<16}{'READY p50':>10}{'p95':>8}{'min':>8}{'max':>8}"
          f"{'CPU p50':>10}{'p95':>8}{'min':>8}   (ms)")
    for label, _ in binaries:
        w, c = (stats(v) for v in results[label])
        print(f"{label:<16}{w['p50']:>10.1f}{w['p95']:>8.1f}{w['min']:>8.1f}{w['max']:>8.1f}"
              f"{c['p50']:>10.1f}{c['p95']:>8.1f}{c['min']:>8.1f}")
    log("done")


if __name__ == "__main__":
    main()
