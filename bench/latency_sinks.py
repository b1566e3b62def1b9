#!/usr/bin/env python3
"""Alert latency per network sink: Telegram, LINE and ntfy against their fakes, each with the
IDLE floor of the same deliveries. The method of bench/latency.py: a genuine, unexpected SBI
withdrawal (unique amount) is APPENDed to Dovecot while the daemon IDLEs; measured from the
APPEND's tagged OK to (a) a bare IDLE client seeing `* N EXISTS` (the floor) and (b) the fake
API's `received_at_ms` for the request naming that amount.

One phase per sink, in the order given: a fresh daemon whose only sinks are console and that one
(`escalation.critical: [console, <sink>]`), the fake started beside it. Usage:

    bench/latency_sinks.py [--sinks telegram,line,ntfy] [--count 40] [--warmup 2] [--no-build]

Writes bench/results/latency_sinks.json and prints a table.
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
from benchlib import BROKERWATCH, TARGET, Env, NotifySocket, log, stop_process, summary  # noqa: E402
from latency import USER, IdleFloor, machine, notice  # noqa: E402
import imaplib  # noqa: E402

RESULTS = benchlib.ROOT / "bench" / "results" / "latency_sinks.json"
TELEGRAM_TOKEN = "123456:bench-token"
LINE_TOKEN = "fake-line-channel-access-token-0123456789abcdef"
LINE_TO = "U4af4980629a0b1c2d3e4f5a6b7c8d9e0"
NTFY_TOPIC = "brokerwatch-bench"
CHAT = 4242


class Fake:
    """A running `examples/fake<name>` on a free port until `stop()`."""

    def __init__(self, args):
        self.proc = subprocess.Popen(
            [str(TARGET / "examples" / args[0])] + args[1:], stdout=subprocess.PIPE, text=True
        )
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"{args[0]} did not start: {line!r}")
        self.url = line.split("listening on ", 1)[1].strip()

    def requests(self):
        with urllib.request.urlopen(self.url + "/_fake/requests") as r:
            return json.load(r)

    def stop(self):
        stop_process(self.proc, signal.SIGINT, 10)


def start_fake(sink):
    if sink == "telegram":
        return Fake(["fakebot", "0", TELEGRAM_TOKEN])
    if sink == "line":
        return Fake(["fakeline", "0", LINE_TOKEN])
    if sink == "ntfy":
        return Fake(["fakentfy"])
    raise ValueError(sink)


def sink_yaml(sink, tmp, url):
    if sink == "telegram":
        token = tmp / "telegram-token"
        token.write_text(TELEGRAM_TOKEN + "\n")
        token.chmod(0o600)
        return (
            f"  telegram:\n    token: {{file: {token}}}\n    chat_ids: [{CHAT}]\n"
            f"    api_url: {url}\n    commands: true\n"
        )
    if sink == "line":
        token = tmp / "line-token"
        token.write_text(LINE_TOKEN + "\n")
        token.chmod(0o600)
        return (
            f"  line:\n    channel_access_token: {{file: {token}}}\n    to: [{LINE_TO}]\n"
            f"    monthly_limit: 1000\n    api_url: {url}\n"
        )
    return f"  ntfy:\n    url: {url}\n    topic: {NTFY_TOPIC}\n"


def received(sink, fake, amount):
    """Receive time (s) of the first accepted request naming `amount`, or None."""
    for r in fake.requests():
        if sink == "telegram":
            if r.get("method") != "sendMessage" or r.get("status") != 200:
                continue
            text = r.get("text") or ""
        elif sink == "line":
            text = r.get("text") or ""
        else:
            text = f"{r.get('title') or ''} {r.get('message') or ''}"
        if "takeover" in text.lower():
            continue
        if amount in text:
            return r["received_at_ms"] / 1000
    return None


def write_config(tmp, env, sink, url):
    pw = tmp / "imap-password"
    pw.write_text(env.users[USER] + "\n")
    pw.chmod(0o600)
    cfg = tmp / "config.yaml"
    cfg.write_text(
        f"""authserv_ids: [mx.brokerwatch.test]
state_dir: {tmp / "state"}
first_run_lookback: 1d
takeover_window: 0s
escalation:
  critical: {{sinks: [console, {sink}], repeat: 24h}}
sinks:
  console: true
  desktop: {{enabled: false}}
{sink_yaml(sink, tmp, url)}accounts:
  - name: bench
    imap:
      host: localhost
      port: {env.imaps_port}
      tls: implicit
      username: {USER}
      password: {{file: {pw}}}
      mailboxes: [INBOX]
      ca_file: {env.ca_file}
      idle_refresh: 25m
"""
    )
    return cfg


def phase(env, sink, total, seq, rust_log):
    """A fresh daemon with this sink; `total` deliveries; rows with floor and sink times."""
    fake = start_fake(sink)
    with tempfile.TemporaryDirectory(prefix=f"bw-lat-{sink}") as tmpdir:
        tmp = Path(tmpdir)
        cfg = write_config(tmp, env, sink, fake.url)
        notify = NotifySocket(tmp)
        out = open(tmp / "daemon.log", "w")
        daemon = subprocess.Popen(
            [str(BROKERWATCH), "--config", str(cfg), "run"],
            env=dict(os.environ, NOTIFY_SOCKET=notify.path, RUST_LOG=rust_log),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        floor = None
        rows = []
        try:
            if notify.wait_for("READY=1", 30) is None:
                raise RuntimeError(f"brokerwatch ({sink}) did not become READY")
            floor = IdleFloor(env, USER, env.users[USER])
            time.sleep(2)  # the daemon's catch-up and first IDLE
            imap = imaplib.IMAP4("127.0.0.1", env.imap_port)
            imap.login(USER, env.users[USER])
            base = floor.exists
            for i in range(total):
                n = seq + i
                amount = f"{1_000_000 + 1_013 * (n + 1):,}"
                typ, _ = imap.append("INBOX", None, None, notice(n, amount))
                t0 = time.time()
                if typ != "OK":
                    raise RuntimeError(f"APPEND failed: {typ}")
                deadline = time.monotonic() + 15
                f = s = None
                while time.monotonic() < deadline:
                    f = floor.when(base + i + 1)
                    s = received(sink, fake, amount)
                    if f and s:
                        break
                    time.sleep(0.05)
                row = {"i": i, "amount": amount, "append_done": t0, "floor": f, "sink": s}
                rows.append(row)
                log(f"{sink} {i + 1}/{total}: floor {ms(row, 'floor')} {sink} {ms(row, 'sink')}")
                time.sleep(random.uniform(1.1, 1.6))  # no two notices in one second
            imap.logout()
        finally:
            if floor:
                floor.close()
            daemon.terminate()
            daemon.wait(timeout=30)
            notify.close()
            out.close()
            fake.stop()
    return rows


def ms(row, key):
    t = row.get(key)
    return "MISS" if t is None else f"{(t - row['append_done']) * 1000:.1f} ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sinks", default="telegram,line,ntfy", help="phases, in order")
    ap.add_argument("--count", type=int, default=40, help="measured deliveries per sink")
    ap.add_argument("--warmup", type=int, default=2, help="unmeasured deliveries first")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--rust-log", default="warn", help="RUST_LOG for the daemon (default warn)")
    args = ap.parse_args()
    sinks = [s.strip() for s in args.sinks.split(",") if s.strip()]
    for s in sinks:
        if s not in ("telegram", "line", "ntfy"):
            ap.error(f"unknown sink {s!r} (telegram, line, ntfy)")
    if not args.no_build:
        benchlib.build()
    load_before = os.getloadavg()
    phases = {}
    with Env() as env:
        seq = 0
        for sink in sinks:
            rows = phase(env, sink, args.warmup + args.count, seq, args.rust_log)
            seq += len(rows)
            phases[sink] = rows
    load_after = os.getloadavg()
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine(),
        "command": "python3 bench/latency_sinks.py " + " ".join(sys.argv[1:]),
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "count": args.count,
        "warmup": args.warmup,
        "sinks": {},
    }
    print(f"alert latency, {args.count} deliveries per sink (ms from APPEND completion)")
    print(f"{'sink':<10}{'floor p50':>10}{'p50':>9}{'p95':>9}{'−floor p50':>12}{'p95':>9}{'miss':>6}")
    for sink, rows in phases.items():
        measured = rows[args.warmup :]
        lat = lambda k: [(r[k] - r["append_done"]) * 1000 for r in measured if r[k] is not None]
        paired = [
            (r["sink"] - r["floor"]) * 1000
            for r in measured
            if r["sink"] is not None and r["floor"] is not None
        ]
        res = {
            "floor_ms": summary(lat("floor")),
            "sink_ms": summary(lat("sink")),
            "sink_over_floor_ms": summary(paired),
            "misses": {k: sum(1 for r in measured if r[k] is None) for k in ("floor", "sink")},
            "warmup": [{k: ms(r, k) for k in ("floor", "sink")} for r in rows[: args.warmup]],
            "rows": measured,
        }
        result["sinks"][sink] = res
        f, s, d = res["floor_ms"], res["sink_ms"], res["sink_over_floor_ms"]
        print(
            f"{sink:<10}{f['p50']:>10.1f}{s['p50']:>9.1f}{s['p95']:>9.1f}"
            f"{d['p50']:>12.1f}{d['p95']:>9.1f}{res['misses']['sink']:>6}"
        )
    print(f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after; JSON: {RESULTS}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
