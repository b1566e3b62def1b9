#!/usr/bin/env python3
"""Footprint of `brokerwatch run`: idle RSS, CPU and wake-ups with 1, 10 and 100 IMAP accounts
IDLE-ing on the local Dovecot; binary size; cold start to READY.

For each N the daemon watches INBOX of N users (`user001`…, implicit TLS), console sink only.
Once every mailbox logged "watching" (IDLE entered) and a short settle, /proc is sampled every
10 s for `--duration` seconds: VmRSS/VmHWM, utime+stime, and voluntary + involuntary context
switches summed over the process's threads (each wake-up of a thread costs at least one).

Dovecot is started with `--idle-notify 3600` so that its "* OK Still here" (every 2 min by
default, i.e. server traffic a real server may or may not send) does not hide the daemon's own
wake-ups; the daemon's own IDLE refresh (DONE + catch-up + IDLE, every 5 min) is expected
traffic. A separate run with a Telegram sink (fake Bot API) counts the getUpdates long polls,
expected traffic reported on its own.

    bench/footprint.py [--duration 300] [--counts 1,10,100] [--telegram-duration S] [--no-build]
                       [--current LABEL=PATH] [--baseline LABEL=PATH ...]

Writes bench/results/footprint.json and prints a table.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
from benchlib import (  # noqa: E402
    BROKERWATCH,
    Env,
    FakeBot,
    NotifySocket,
    log,
    percentile,
    proc_usage,
    switches_between,
)

RESULTS = benchlib.ROOT / "bench" / "results" / "footprint.json"
SAMPLE_EVERY = 10.0


def write_config(tmp, env, users, bot=None):
    """A config watching INBOX of `users`; Telegram to `bot` if given."""
    tmp.mkdir(parents=True, exist_ok=True)
    accounts = []
    for user in users:
        pw = tmp / f"pw-{user}"
        pw.write_text(env.users[user] + "\n")
        pw.chmod(0o600)
        accounts.append(
            f"""  - name: {user}
    imap:
      host: localhost
      port: {env.imaps_port}
      tls: implicit
      username: {user}
      password: {{file: {pw}}}
      mailboxes: [INBOX]
      ca_file: {env.ca_file}
"""
        )
    telegram = ""
    if bot:
        token = tmp / "token"
        token.write_text(FakeBot.TOKEN + "\n")
        token.chmod(0o600)
        telegram = (
            f"  telegram:\n    token: {{file: {token}}}\n    chat_ids: [4242]\n"
            f"    api_url: {bot.url}\n    commands: true\n"
        )
    cfg = tmp / "config.yaml"
    cfg.write_text(
        f"state_dir: {tmp / 'state'}\n"
        "sinks:\n  console: true\n  desktop: {enabled: false}\n"
        + telegram
        + "accounts:\n"
        + "".join(accounts)
    )
    return cfg


class Daemon:
    """`brokerwatch run` with NOTIFY_SOCKET; counts the "watching" log lines."""

    def __init__(self, cfg, tmp, binary=BROKERWATCH):
        self.notify = NotifySocket(tmp)
        env = dict(os.environ, NOTIFY_SOCKET=self.notify.path, RUST_LOG="brokerwatch=info")
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        env.pop("JOURNAL_STREAM", None)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [str(binary), "--config", str(cfg), "--log-format", "json", "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.watching = 0
        self.first_watching = None
        self.lines = []
        self.problems = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                rec = {}
            with self.cond:
                self.lines.append(line)
                if rec.get("level") in ("WARN", "ERROR"):
                    self.problems.append(line.strip())
                if rec.get("fields", {}).get("message") == "watching":
                    self.watching += 1
                    if self.first_watching is None:
                        self.first_watching = time.monotonic()
                    self.cond.notify_all()

    def wait_watching(self, n, timeout):
        with self.cond:
            return self.cond.wait_for(lambda: self.watching >= n, timeout)

    def stop(self):
        benchlib.stop_process(self.proc, signal.SIGTERM, 30)
        self.notify.close()


def idle_run(env, variants, duration, tmp, bot=None):
    """Runs one daemon per variant (label, binary, users) side by side; samples them together."""
    daemons = []
    try:
        for label, binary, users in variants:
            cfg = write_config(tmp / label, env, users, bot)
            daemons.append((label, users, Daemon(cfg, tmp / label, binary)))
        all_watching = {}
        for label, users, d in daemons:
            if d.notify.wait_for("READY=1", 60) is None:
                raise RuntimeError(f"{label}: no READY=1:\n" + "".join(d.lines[-20:]))
            if not d.wait_watching(len(users), 180):
                raise RuntimeError(f"{label}: only {d.watching}/{len(users)} mailboxes watching")
            all_watching[label] = time.monotonic() - d.started
        # The last catch-ups settle, and tokio's blocking threads (name lookups) exit after
        # their 10 s keep-alive.
        time.sleep(15)
        polls_before = count_polls(bot)
        samples = {label: [] for label, _, _ in daemons}
        start = time.monotonic()
        while True:
            now = time.monotonic()
            for label, _, d in daemons:
                samples[label].append((now, proc_usage(d.proc.pid)))
            if now >= start + duration:
                break
            time.sleep(min(SAMPLE_EVERY, max(0.0, start + duration - time.monotonic())))
        polls = count_polls(bot) - polls_before if bot else None
    finally:
        for _, _, d in daemons:
            d.stop()
    out = []
    for label, users, d in daemons:
        errors = d.problems
        r = summarize(len(users), samples[label], all_watching[label], polls, errors)
        r["binary"] = label
        out.append(r)
    return out


def count_polls(bot):
    if not bot:
        return 0
    return sum(1 for r in bot.requests() if r["method"] == "getUpdates")


def summarize(n, samples, all_watching, polls, errors):
    (t0, a), (t1, b) = samples[0], samples[-1]
    minutes = (t1 - t0) / 60
    steps = [switches_between(x, y) for (_, x), (_, y) in zip(samples, samples[1:])]
    active = sum(1 for n in steps if n > 0)
    return {
        "accounts": n,
        "window_s": round(t1 - t0, 1),
        "all_watching_s": round(all_watching, 3),
        "rss_mb": b["rss_kb"] / 1024,
        "rss_start_mb": a["rss_kb"] / 1024,
        "hwm_mb": b["hwm_kb"] / 1024,
        "threads": b["threads"],
        "cpu_s": b["cpu_s"] - a["cpu_s"],
        "cpu_pct": 100 * (b["cpu_s"] - a["cpu_s"]) / (t1 - t0),
        "wakeups_per_min": sum(steps) / minutes,
        "active_10s_intervals": f"{active}/{len(samples) - 1}",
        "getupdates_per_min": None if polls is None else polls / minutes,
        "warnings": errors[:5],
        "series": [
            {"t": round(t - t0, 1), "rss_kb": u["rss_kb"], "threads": u["threads"], "cpu_s": u["cpu_s"],
             "switches_since_last": steps[i - 1] if i else 0}
            for i, (t, u) in enumerate(samples)
        ],
    }


def cold_start(env, tmp, runs, binaries):
    """Spawn → READY=1, and spawn → first mailbox watching (IDLE), for 1 account; the binaries
    take turns run by run, so that load drifts over all of them alike."""
    cfg = write_config(tmp, env, ["user001"])
    ready = {label: [] for label, _ in binaries}
    watching = {label: [] for label, _ in binaries}
    for _ in range(runs):
        for label, binary in binaries:
            shutil.rmtree(tmp / "state", ignore_errors=True)
            d = Daemon(cfg, tmp, binary)
            try:
                t = d.notify.wait_for("READY=1", 30)
                if t is None:
                    raise RuntimeError(f"{label}: no READY=1")
                ready[label].append((t - d.started) * 1000)
                if d.wait_watching(1, 30):
                    watching[label].append((d.first_watching - d.started) * 1000)
            finally:
                d.stop()
    spread = lambda v: {"p50": percentile(v, 50), "min": min(v), "max": max(v)}
    return {
        label: {"runs": runs, "ready_ms": spread(ready[label]), "watching_ms": spread(watching[label])}
        for label, _ in binaries
    }


def binary_size(tmp, label, binary):
    stripped = tmp / f"brokerwatch-{label}.stripped"
    shutil.copy(binary, stripped)
    subprocess.run(["strip", str(stripped)], check=True)
    return {
        "path": str(binary),
        "unstripped_mb": binary.stat().st_size / 2**20,
        "stripped_mb": stripped.stat().st_size / 2**20,
    }


def labelled(spec, default):
    """`LABEL=PATH` or `PATH` (labelled `default`)."""
    label, sep, path = spec.partition("=")
    return (label, Path(path)) if sep else (default, Path(spec))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=300, help="idle window per N (s)")
    ap.add_argument("--counts", default="1,10,100")
    ap.add_argument("--telegram-duration", type=float, default=None, help="default: --duration")
    ap.add_argument("--cold-runs", type=int, default=10)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument(
        "--current",
        help="[LABEL=]PATH of the binary measured (default: current=<target>/release/brokerwatch)",
    )
    ap.add_argument(
        "--baseline",
        action="append",
        default=[],
        help="[LABEL=]PATH of another binary run side by side (same N, other users); repeatable",
    )
    args = ap.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    if not args.no_build:
        benchlib.build()
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": f"{os.cpu_count()} cores, {os.uname().release}",
        "duration_s": args.duration,
        "runs": [],
    }
    binaries = [labelled(args.current, "current") if args.current else ("current", BROKERWATCH)]
    binaries += [labelled(b, f"baseline{i or ''}") for i, b in enumerate(args.baseline)]
    users_needed = max(counts) * len(binaries)
    with tempfile.TemporaryDirectory(prefix="bw-footprint") as tmpdir, Env.with_args(
        "--users", users_needed, "--idle-notify", 3600
    ) as env:
        tmp = Path(tmpdir)
        result["binaries"] = {label: binary_size(tmp, label, b) for label, b in binaries}
        log(f"binaries: {result['binaries']}")

        def variants(n):
            # Each binary watches its own users: user001…, then the baseline's after them.
            return [
                (label, binary, [f"user{k * n + i:03}" for i in range(1, n + 1)])
                for k, (label, binary) in enumerate(binaries)
            ]

        for n in counts:
            log(f"{n} account(s): idle for {args.duration:.0f} s …")
            for r in idle_run(env, variants(n), args.duration, tmp / f"n{n}"):
                log({k: v for k, v in r.items() if k != "series"})
                result["runs"].append(r)
        with FakeBot() as bot:
            dur = args.telegram_duration or args.duration
            log(f"1 account + Telegram sink: idle for {dur:.0f} s …")
            # One getUpdates poller per token: the current binary only.
            for r in idle_run(env, variants(1)[:1], dur, tmp / "tg", bot):
                r["telegram"] = True
                log({k: v for k, v in r.items() if k != "series"})
                result["runs"].append(r)
        # Last: the idle runs above do not care about other load on the machine; this does.
        result["cold_start"] = cold_start(env, tmp / "cold", args.cold_runs, binaries)
        log(f"cold start: {result['cold_start']}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print_table(result, out)


def print_table(result, out):
    for label, b in result["binaries"].items():
        print(f"binary {label}: {b['unstripped_mb']:.1f} MB as built, {b['stripped_mb']:.1f} MB "
              f"stripped ({b['path']})")
    for label, c in result["cold_start"].items():
        print(f"cold start ({label}) to READY=1: p50 {c['ready_ms']['p50']:.1f} ms "
              f"(min {c['ready_ms']['min']:.1f}, max {c['ready_ms']['max']:.1f}); to first "
              f"mailbox watching: p50 {c['watching_ms']['p50']:.1f} ms; {c['runs']} runs")
    print(f"{'accounts':<12}{'binary':<12}{'RSS MB':>8}{'HWM MB':>8}{'thr':>5}{'CPU %':>8}"
          f"{'wake/min':>10}{'active 10s':>12}{'getUpd/min':>12}")
    for r in result["runs"]:
        name = f"{r['accounts']}" + (" +telegram" if r.get("telegram") else "")
        gu = "-" if r["getupdates_per_min"] is None else f"{r['getupdates_per_min']:.2f}"
        print(f"{name:<12}{r['binary']:<12}{r['rss_mb']:>8.1f}{r['hwm_mb']:>8.1f}{r['threads']:>5}"
              f"{r['cpu_pct']:>8.3f}{r['wakeups_per_min']:>10.1f}{r['active_10s_intervals']:>12}{gu:>12}")
    idle = {(r["binary"], r["accounts"]): r for r in result["runs"] if not r.get("telegram")}
    current = next(iter(result["binaries"]))
    for (label, n), r in idle.items():
        if n in (1, 100):
            limit = 15 if n == 1 else 40
            verdict = "met" if r["rss_mb"] <= limit else "MISSED"
            print(f"{label}: target ≤ {limit} MB at {n} account(s): {verdict} ({r['rss_mb']:.1f} MB)")
        o = idle.get((current, n))
        if label != current and o:
            print(f"{n} account(s), {label}/{current}: RSS {r['rss_mb'] / o['rss_mb']:.2f}×, "
                  f"CPU {ratio(r['cpu_s'], o['cpu_s'])}, wake-ups "
                  f"{ratio(r['wakeups_per_min'], o['wakeups_per_min'])}")
    print(f"JSON: {out}")


def ratio(a, b):
    return f"{a / b:.2f}×" if b else "n/a"


if __name__ == "__main__":
    main()
