#!/usr/bin/env python3
"""Alert latency: a notice APPENDed to Dovecot → each sink's far end receives it (the fake Bot API,
the fake LINE and ntfy APIs, or the session bus carrying the Notify call to dunst). The floor,
measured on the same APPENDs, is a bare IMAP IDLE client on the same mailbox seeing `* N EXISTS`
(Dovecot delays change notifications by ~500 ms). Every timestamp is wall-clock time on this
machine:

- APPEND completion: this script, after the tagged OK;
- floor: this script's IDLE reader thread, when the EXISTS line arrives;
- Telegram, LINE, ntfy: the fake's `received_at_ms` of the first accepted request naming the amount;
- desktop: `busctl monitor`'s `timestamp-realtime` of the Notify method call naming it.

Each APPEND is a genuine, unexpected SBI withdrawal with a unique amount, so it raises exactly one
alert; the alert is matched by that amount. `--sinks` lists phases separated by commas, each one
fresh daemon whose sinks are console and the phase's sinks (joined by `+`), e.g.
`telegram,line,ntfy` (one sink per daemon, the default) or `telegram+desktop` (both in one daemon).

    bench/latency.py [--sinks telegram,line,ntfy] [--count 40] [--warmup 2] [--no-build]
                     [--keep-toasts] [--rust-log brokerwatch=debug --daemon-log PREFIX]

Writes bench/results/latency.json and prints a table.
"""

import argparse
import email.utils
import imaplib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
from benchlib import BROKERWATCH, Env, Fake, FakeBot, IdleFloor, NotifySocket, log, summary  # noqa: E402

SINKS = ("telegram", "line", "ntfy", "desktop")
CHAT = 4242
USER = "alice"
LINE_TOKEN = "fake-line-channel-access-token-0123456789abcdef"
LINE_TO = "U4af4980629a0b1c2d3e4f5a6b7c8d9e0"
NTFY_TOPIC = "brokerwatch-bench"
RESULTS = benchlib.ROOT / "bench" / "results" / "latency.json"


def notice(i, amount):
    """An authentic SBI withdrawal notice (as the tests' fixture) with a fresh Date and a unique
    Message-ID and amount."""
    now = email.utils.formatdate(localtime=True)
    return (
        "Authentication-Results: mx.brokerwatch.test; dkim=pass header.d=sbisec.co.jp header.s=s1; "
        "dmarc=pass header.from=sbisec.co.jp\r\n"
        f"Received: from psmtp01.sbisec.co.jp (psmtp01.sbisec.co.jp [203.0.113.5]) by "
        f"mx.brokerwatch.test with ESMTPS id lat{i}; {now}\r\n"
        "From: =?UTF-8?B?U0JJ6Ki85Yi4?= <info@sbisec.co.jp>\r\n"
        "To: user@example.jp\r\n"
        "Subject: =?UTF-8?B?44CQU0JJ6Ki85Yi444CR5Ye66YeR5oyH56S65Y+X5LuY44Gu44GK55+l44KJ44Gb?=\r\n"
        f"Message-ID: <latency-{i}-{time.time_ns()}@sbisec.co.jp>\r\n"
        f"Date: {now}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        f"お客様の出金指示を受け付けました。\r\n出金金額：{amount}円\r\n"
        "振込先：三井住友銀行 普通 ****5678\r\n"
    ).encode()


class FakeSink:
    """Telegram, LINE or ntfy: its fake API beside the daemon. A delivery's time is the fake's
    `received_at_ms` of the first accepted request naming the notice's amount."""

    def __init__(self, name, tmp):
        self.name = name
        if name == "telegram":
            self.fake = FakeBot()
        elif name == "line":
            self.fake = Fake("fakeline", "0", LINE_TOKEN)
        else:
            self.fake = Fake("fakentfy")
        self.yaml = self._yaml(tmp, self.fake.url)

    def _yaml(self, tmp, url):
        if self.name == "ntfy":
            return f"  ntfy:\n    url: {url}\n    topic: {NTFY_TOPIC}\n"
        token = tmp / f"{self.name}-token"
        token.write_text((FakeBot.TOKEN if self.name == "telegram" else LINE_TOKEN) + "\n")
        token.chmod(0o600)
        if self.name == "telegram":
            return (
                f"  telegram:\n    token: {{file: {token}}}\n    chat_ids: [{CHAT}]\n"
                f"    api_url: {url}\n    commands: true\n"
            )
        return (
            f"  line:\n    channel_access_token: {{file: {token}}}\n    to: [{LINE_TO}]\n"
            f"    monthly_limit: 1000\n    api_url: {url}\n"
        )

    def _text(self, r):
        if self.name == "telegram":
            ok = r.get("method") == "sendMessage" and r.get("status") == 200
            return (r.get("text") or "") if ok else None
        if self.name == "line":
            return r.get("text") or ""
        return f"{r.get('title') or ''} {r.get('message') or ''}"

    def when(self, amount):
        for r in self.fake.requests():
            text = self._text(r)
            if text is not None and amount in text and "takeover" not in text.lower():
                return r["received_at_ms"] / 1000
        return None

    def takeovers(self):
        """Takeover alerts received: none expected (`takeover_window: 0s`)."""
        texts = (self._text(r) for r in self.fake.requests())
        return sum(1 for t in texts if t and "takeover" in t.lower())

    def after_delivery(self):
        pass

    def stop(self):
        self.fake.stop()


class DesktopSink:
    """`busctl monitor` on the private bus: Notify calls with their realtime timestamps. After
    each delivery the toasts are closed, as a user would: dunst keeps critical ones until then,
    and with dozens on screen it answers Notify ever more slowly (see BENCHMARKS.md)."""

    name = "desktop"
    yaml = "  desktop: {app_name: brokerwatch}\n"

    def __init__(self, env, close_toasts):
        self.address = env.dbus_address
        self.close_toasts = close_toasts
        self.proc = subprocess.Popen(
            ["busctl", f"--address={self.address}", "monitor", "--json=short"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first = self.proc.stderr.readline()
        if "Monitoring" not in first:
            raise RuntimeError(f"busctl monitor: {first!r}")
        self.calls = []  # (wall-clock seconds, summary + body)
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                m = json.loads(line)
            except json.JSONDecodeError:
                continue
            if m.get("member") != "Notify" or m.get("type") != "method_call":
                continue
            data = m.get("payload", {}).get("data", [])
            text = " ".join(str(x) for x in data[3:5])
            with self.lock:
                self.calls.append((m["timestamp-realtime"] / 1e6, text))

    def when(self, amount):
        with self.lock:
            return next((t for t, text in self.calls if amount in text), None)

    def takeovers(self):
        return 0

    def after_delivery(self):
        if self.close_toasts:
            env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.address)
            subprocess.run(["dunstctl", "close-all"], env=env, check=False)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def write_config(tmp, env, sinks):
    """console plus `sinks` for critical alerts; desktop off unless it is one of them."""
    pw = tmp / "imap-password"
    pw.write_text(env.users[USER] + "\n")
    pw.chmod(0o600)
    names = ", ".join(["console"] + [s.name for s in sinks])
    blocks = "".join(s.yaml for s in sinks)
    if all(s.name != "desktop" for s in sinks):
        blocks = "  desktop: {enabled: false}\n" + blocks
    cfg = tmp / "config.yaml"
    cfg.write_text(
        f"""authserv_ids: [mx.brokerwatch.test]
state_dir: {tmp / "state"}
first_run_lookback: 1d
# One alert per notice: no takeover incident (it would add a second message) within 0 s.
takeover_window: 0s
escalation:
  critical: {{sinks: [{names}], repeat: 24h}}
sinks:
  console: true
{blocks}accounts:
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


def phase(env, names, total, seq, args):
    """A fresh daemon with these sinks; `total` deliveries; (rows, takeover alerts seen)."""
    with tempfile.TemporaryDirectory(prefix="bw-latency") as tmpdir:
        tmp = Path(tmpdir)
        sinks = [
            DesktopSink(env, not args.keep_toasts) if n == "desktop" else FakeSink(n, tmp)
            for n in names
        ]
        notify = NotifySocket(tmp)
        daemon_env = dict(os.environ, NOTIFY_SOCKET=notify.path, RUST_LOG=args.rust_log)
        if env.dbus_address:
            daemon_env["DBUS_SESSION_BUS_ADDRESS"] = env.dbus_address
        out = open(tmp / "daemon.log", "w")
        daemon = subprocess.Popen(
            [str(BROKERWATCH), "--config", str(write_config(tmp, env, sinks)), "run"],
            env=daemon_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        floor = None
        try:
            if notify.wait_for("READY=1", 30) is None:
                raise RuntimeError(f"brokerwatch ({'+'.join(names)}) did not become READY")
            floor = IdleFloor(env, USER, env.users[USER])
            time.sleep(2)  # the daemon's catch-up and first IDLE
            rows = deliver(env, floor, sinks, total, seq)
            takeovers = sum(s.takeovers() for s in sinks)
        finally:
            if floor:
                floor.close()
            daemon.terminate()
            daemon.wait(timeout=30)
            for s in sinks:
                s.stop()
            notify.close()
            out.close()
            if args.daemon_log:
                shutil.copy(tmp / "daemon.log", f"{args.daemon_log}.{'+'.join(names)}.log")
        return rows, takeovers


def deliver(env, floor, sinks, total, seq):
    """APPENDs `total` notices, spaced > 1 s; a row per notice with the floor's and each sink's
    time (None when not seen within 15 s)."""
    imap = imaplib.IMAP4("127.0.0.1", env.imap_port)
    imap.login(USER, env.users[USER])
    rows = []
    base = floor.exists
    for i in range(total):
        amount = f"{1_000_000 + 1_013 * (seq + i + 1):,}"
        typ, _ = imap.append("INBOX", None, None, notice(seq + i, amount))
        t0 = time.time()
        if typ != "OK":
            raise RuntimeError(f"APPEND failed: {typ}")
        row = {"i": i, "amount": amount, "append_done": t0}
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            row["floor"] = floor.when(base + i + 1)
            row.update({s.name: s.when(amount) for s in sinks})
            if all(row[k] for k in ["floor"] + [s.name for s in sinks]):
                break
            time.sleep(0.05)
        rows.append(row)
        seen = " ".join(f"{k} {ms(row, k)}" for k in ["floor"] + [s.name for s in sinks])
        log(f"{i + 1}/{total}: {seen}")
        for s in sinks:
            s.after_delivery()
        time.sleep(random.uniform(1.1, 1.6))  # no two notices in one second
    imap.logout()
    return rows


def ms(row, key):
    t = row.get(key)
    return "MISS" if t is None else f"{(t - row['append_done']) * 1000:.1f} ms"


def sink_result(rows, warm, name):
    """Summaries of one sink in one phase: from APPEND completion, and paired with the floor."""
    lat = lambda k: [(r[k] - r["append_done"]) * 1000 for r in rows if r[k] is not None]
    paired = [
        (r[name] - r["floor"]) * 1000 for r in rows if r[name] is not None and r["floor"] is not None
    ]
    return {
        "floor_ms": summary(lat("floor")),
        "sink_ms": summary(lat(name)),
        "sink_over_floor_ms": summary(paired),
        "misses": {k: sum(1 for r in rows if r[k] is None) for k in ("floor", name)},
        "warmup": [{k: ms(r, k) for k in ("floor", name)} for r in warm],
    }


def report(phases, args, loads):
    """Writes RESULTS and prints one line per sink per phase."""
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine(),
        "command": "python3 bench/latency.py " + " ".join(sys.argv[1:]),
        "loadavg_before": loads[0],
        "loadavg_after": loads[1],
        "count": args.count,
        "warmup": args.warmup,
        "phases": [],
    }
    print(f"alert latency, {args.count} deliveries per phase (ms from APPEND completion)")
    print(
        f"{'phase':<18}{'sink':<10}{'floor p50':>10}{'p50':>9}{'p95':>9}"
        f"{'−floor p50':>12}{'p95':>9}{'max':>9}{'miss':>6}"
    )
    for names, rows, takeovers in phases:
        measured, warm = rows[args.warmup :], rows[: args.warmup]
        entry = {"sinks": {n: sink_result(measured, warm, n) for n in names}}
        entry.update({"phase": "+".join(names), "takeover_alerts": takeovers, "rows": measured})
        result["phases"].append(entry)
        for n, res in entry["sinks"].items():
            f, s, d = res["floor_ms"], res["sink_ms"], res["sink_over_floor_ms"]
            print(
                f"{entry['phase']:<18}{n:<10}{f['p50']:>10.1f}{s['p50']:>9.1f}{s['p95']:>9.1f}"
                f"{d['p50']:>12.1f}{d['p95']:>9.1f}{d['max']:>9.1f}{res['misses'][n]:>6}"
            )
    print(f"load average {loads[0][0]:.2f} before, {loads[1][0]:.2f} after; JSON: {RESULTS}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")


def machine():
    import platform

    return f"{platform.machine()}, {os.cpu_count()} cores, {platform.release()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--sinks", default="telegram,line,ntfy", help="phases, in order; sinks of one phase joined by +"
    )
    ap.add_argument("--count", type=int, default=40, help="measured deliveries per phase")
    ap.add_argument("--warmup", type=int, default=2, help="unmeasured deliveries first")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument(
        "--keep-toasts", action="store_true", help="leave the toasts on screen (default: close each)"
    )
    ap.add_argument("--daemon-log", help="copy each phase's daemon log to PREFIX.<phase>.log")
    ap.add_argument("--rust-log", default="warn", help="RUST_LOG for the daemon (default warn)")
    args = ap.parse_args()
    plan = [[n.strip() for n in p.split("+") if n.strip()] for p in args.sinks.split(",") if p.strip()]
    for n in {n for p in plan for n in p} - set(SINKS):
        ap.error(f"unknown sink {n!r} ({', '.join(SINKS)})")
    if not args.no_build:
        benchlib.build()
    load_before = os.getloadavg()
    phases = []
    with Env(desktop=any("desktop" in p for p in plan)) as env:
        seq = 0
        for names in plan:
            rows, takeovers = phase(env, names, args.warmup + args.count, seq, args)
            seq += len(rows)
            phases.append((names, rows, takeovers))
    report(phases, args, (load_before, os.getloadavg()))


if __name__ == "__main__":
    main()
