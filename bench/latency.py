#!/usr/bin/env python3
"""Alert latency: a notice APPENDed to Dovecot → the fake Bot API receives sendMessage, and → the
session bus carries the Notify call to dunst. The floor, measured on the same APPENDs, is a bare
IMAP IDLE client on the same mailbox seeing `* N EXISTS` (Dovecot delays change notifications by
~500 ms). Every timestamp is wall-clock time on this machine:

- APPEND completion: this script, after the tagged OK;
- floor: this script's IDLE reader thread, when the EXISTS line arrives;
- Telegram: the fake bot's `received_at_ms`;
- desktop: `busctl monitor`'s `timestamp-realtime` of the Notify method call.

Each APPEND is a genuine, unexpected SBI withdrawal with a unique amount, so it raises exactly one
alert; the alert is matched by that amount. Usage:

    bench/latency.py [--count 60] [--warmup 2] [--no-build]

Writes bench/results/latency.json and prints a table.
"""

import argparse
import email.utils
import imaplib
import json
import os
import random
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
from benchlib import BROKERWATCH, Env, FakeBot, NotifySocket, log, summary  # noqa: E402

CHAT = 4242
USER = "alice"
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


def write_config(tmp, env, bot):
    token = tmp / "token"
    token.write_text(FakeBot.TOKEN + "\n")
    pw = tmp / "imap-password"
    pw.write_text(env.users[USER] + "\n")
    for f in (token, pw):
        f.chmod(0o600)
    cfg = tmp / "config.yaml"
    cfg.write_text(
        f"""authserv_ids: [mx.brokerwatch.test]
state_dir: {tmp / "state"}
first_run_lookback: 1d
# One alert per notice: no takeover incident (it would add a second message) within 0 s.
takeover_window: 0s
escalation:
  critical: {{sinks: [console, desktop, telegram], repeat: 24h}}
sinks:
  console: true
  desktop: {{app_name: brokerwatch}}
  telegram:
    token: {{file: {token}}}
    chat_ids: [{CHAT}]
    api_url: {bot.url}
    commands: true
accounts:
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


class IdleFloor:
    """A bare IDLE client (implicit TLS, like the daemon): records when each EXISTS arrives."""

    def __init__(self, env, user, password):
        raw = socket.create_connection(("127.0.0.1", env.imaps_port))
        self.sock = env.ssl_context().wrap_socket(raw, server_hostname="localhost")
        self.file = self.sock.makefile("rb")
        self.file.readline()
        self._command(b"a1 LOGIN " + user.encode() + b" " + password.encode())
        self.exists = int(self._command(b"a2 SELECT INBOX", want=rb"\* (\d+) EXISTS") or 0)
        self.sock.sendall(b"a3 IDLE\r\n")
        if not self.file.readline().startswith(b"+"):
            raise RuntimeError("IDLE refused")
        self.seen = {}  # EXISTS count → wall-clock time
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _command(self, line, want=None):
        tag = line.split(b" ", 1)[0]
        self.sock.sendall(line + b"\r\n")
        found = None
        while True:
            resp = self.file.readline()
            if not resp:
                raise RuntimeError("connection closed")
            if want and (m := re.match(want, resp)):
                found = m.group(1)
            if resp.startswith(tag + b" "):
                if not resp.startswith(tag + b" OK"):
                    raise RuntimeError(resp.decode(errors="replace"))
                return found

    def _read(self):
        for line in self.file:
            t = time.time()
            if m := re.match(rb"\* (\d+) EXISTS", line):
                with self.lock:
                    self.seen.setdefault(int(m.group(1)), t)

    def when(self, count):
        with self.lock:
            return self.seen.get(count)

    def close(self):
        try:
            self.sock.sendall(b"DONE\r\na4 LOGOUT\r\n")
        except OSError:
            pass
        self.sock.close()


class NotifyMonitor:
    """`busctl monitor` on the private bus: Notify calls with their realtime timestamps."""

    def __init__(self, address):
        self.proc = subprocess.Popen(
            ["busctl", f"--address={address}", "monitor", "--json=short"],
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

    def find(self, needle):
        with self.lock:
            return next((t for t, text in self.calls if needle in text), None)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def telegram_times(bot, needles):
    """needle → receive time (s) of the first accepted sendMessage naming it; and takeovers."""
    found, takeovers = {}, 0
    for r in bot.requests():
        if r["method"] != "sendMessage" or r["status"] != 200:
            continue
        text = r.get("text") or ""
        if "takeover" in text.lower():
            takeovers += 1
            continue
        for n in needles:
            if n in text and n not in found:
                found[n] = r["received_at_ms"] / 1000
    return found, takeovers


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=60, help="measured deliveries (default 60)")
    ap.add_argument("--warmup", type=int, default=2, help="unmeasured deliveries first")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument(
        "--keep-toasts", action="store_true", help="leave the toasts on screen (default: close each)"
    )
    ap.add_argument("--daemon-log", help="copy the daemon's log here (with --rust-log)")
    ap.add_argument("--rust-log", default="warn", help="RUST_LOG for the daemon (default warn)")
    args = ap.parse_args()
    if not args.no_build:
        benchlib.build()
    with tempfile.TemporaryDirectory(prefix="bw-latency") as tmpdir, Env(
        desktop=True
    ) as env, FakeBot() as bot:
        tmp = Path(tmpdir)
        cfg = write_config(tmp, env, bot)
        monitor = NotifyMonitor(env.dbus_address)
        notify = NotifySocket(tmp)
        daemon_env = dict(
            os.environ,
            DBUS_SESSION_BUS_ADDRESS=env.dbus_address,
            NOTIFY_SOCKET=notify.path,
            RUST_LOG=args.rust_log,
        )
        out = open(tmp / "daemon.log", "w")
        daemon = subprocess.Popen(
            [str(BROKERWATCH), "--config", str(cfg), "run"],
            env=daemon_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        floor = None
        try:
            if notify.wait_for("READY=1", 30) is None:
                raise RuntimeError("brokerwatch did not become READY")
            floor = IdleFloor(env, USER, env.users[USER])
            time.sleep(2)  # the daemon's catch-up and first IDLE
            rows = run_deliveries(
                env, bot, monitor, floor, args.warmup + args.count, not args.keep_toasts
            )
        finally:
            if floor:
                floor.close()
            daemon.terminate()
            daemon.wait(timeout=30)
            monitor.stop()
            notify.close()
            out.close()
            if args.daemon_log:
                shutil.copy(tmp / "daemon.log", args.daemon_log)
        report(rows[args.warmup :], rows[: args.warmup], bot, args)


def run_deliveries(env, bot, monitor, floor, total, close_toasts):
    imap = imaplib.IMAP4("127.0.0.1", env.imap_port)
    imap.login(USER, env.users[USER])
    rows = []
    base = floor.exists
    for i in range(total):
        amount = f"{1_000_000 + 1_013 * (i + 1):,}"
        msg = notice(i, amount)
        typ, _ = imap.append("INBOX", None, None, msg)
        t0 = time.time()
        if typ != "OK":
            raise RuntimeError(f"APPEND failed: {typ}")
        row = {"i": i, "amount": amount, "append_done": t0}
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            f = floor.when(base + i + 1)
            d = monitor.find(amount)
            tg, _ = telegram_times(bot, [amount])
            if f and d and tg:
                break
            time.sleep(0.1)
        row["floor"] = f
        row["desktop"] = d
        row["telegram"] = tg.get(amount)
        rows.append(row)
        log(
            f"{i + 1}/{total}: floor {ms(row, 'floor')} telegram {ms(row, 'telegram')} "
            f"desktop {ms(row, 'desktop')}"
        )
        if close_toasts:
            # The user reads and dismisses each toast: dunst keeps critical ones until then, and
            # with dozens on screen it answers Notify ever more slowly (see BENCHMARKS.md).
            subprocess.run(
                ["dunstctl", "close-all"],
                env=dict(os.environ, DBUS_SESSION_BUS_ADDRESS=env.dbus_address),
                check=False,
            )
        time.sleep(random.uniform(1.1, 1.6))  # spaced > 1 s: no two notices in one second
    imap.logout()
    return rows


def ms(row, key):
    t = row.get(key)
    return "MISS" if t is None else f"{(t - row['append_done']) * 1000:.1f} ms"


def report(rows, warm, bot, args):
    def lat(key):
        return [(r[key] - r["append_done"]) * 1000 for r in rows if r[key] is not None]

    def added(key):
        return [
            (r[key] - r["floor"]) * 1000 for r in rows if r[key] is not None and r["floor"] is not None
        ]

    _, takeovers = telegram_times(bot, [])
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine(),
        "count": len(rows),
        "warmup": [
            {k: ms(r, k) for k in ("floor", "telegram", "desktop")} for r in warm
        ],
        "floor_ms": summary(lat("floor")),
        "telegram_ms": summary(lat("telegram")),
        "desktop_ms": summary(lat("desktop")),
        "telegram_over_floor_ms": summary(added("telegram")),
        "desktop_over_floor_ms": summary(added("desktop")),
        "misses": {k: sum(1 for r in rows if r[k] is None) for k in ("floor", "telegram", "desktop")},
        "takeover_alerts": takeovers,
        "target_added_p50_ms": 20,
        "toasts_closed_after_each": not args.keep_toasts,
        "rows": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(f"alert latency over {len(rows)} deliveries (ms; from APPEND completion)")
    print(f"{'path':<26}{'p50':>9}{'p95':>9}{'max':>9}{'mean':>9}")
    for name, key in [
        ("floor (bare IDLE client)", "floor_ms"),
        ("telegram sendMessage", "telegram_ms"),
        ("desktop Notify", "desktop_ms"),
        ("telegram − floor", "telegram_over_floor_ms"),
        ("desktop − floor", "desktop_over_floor_ms"),
    ]:
        s = result[key]
        print(f"{name:<26}{s['p50']:>9.1f}{s['p95']:>9.1f}{s['max']:>9.1f}{s['mean']:>9.1f}")
    f50 = result["floor_ms"]["p50"]
    for name in ("telegram", "desktop"):
        p50 = result[f"{name}_ms"]["p50"]
        paired = result[f"{name}_over_floor_ms"]["p50"]
        verdict = "met" if paired <= 20 else "MISSED"
        print(
            f"{name}: p50 {p50:.1f} ms = floor p50 {f50:.1f} ms + {p50 - f50:.1f} ms "
            f"(paired p50 +{paired:.1f} ms; ratio {p50 / f50:.3f}); target +20 ms {verdict}"
        )
    print(f"misses: {result['misses']}; takeover alerts: {takeovers}; JSON: {RESULTS}")


def machine():
    import platform

    return f"{platform.machine()}, {os.cpu_count()} cores, {platform.release()}"


if __name__ == "__main__":
    main()
