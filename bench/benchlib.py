"""Shared plumbing for the benchmark scripts under bench/.

Everything runs on 127.0.0.1: the tests' Dovecot (and optionally a private desktop) through
`examples/benchenv`, and the fake Telegram, LINE and ntfy APIs through `examples/fakebot`,
`fakeline` and `fakentfy`. All are stopped by PID when the script ends.
"""

import json
import re
import os
import signal
import socket
import ssl
import threading
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release"
BROKERWATCH = TARGET / "brokerwatch"


def build():
    """Builds the daemon and the bench environments (release, like the tests)."""
    subprocess.run(
        ["cargo", "build", "--release", "--locked", "--bins", "--examples"],
        cwd=ROOT,
        check=True,
    )


class Env:
    """A running `benchenv`: Dovecot (and a desktop with `desktop=True`) until `stop()`."""

    def __init__(self, desktop=False):
        self._start(["--desktop"] if desktop else [])

    @classmethod
    def with_args(cls, *args):
        """An Env started with these `benchenv` arguments (e.g. "--users", "100")."""
        env = cls.__new__(cls)
        env._start([str(a) for a in args])
        return env

    def _start(self, extra):
        args = [str(TARGET / "examples" / "benchenv")] + extra
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("benchenv did not start")
        self.info = json.loads(line)
        self.dir = Path(self.info["dir"])
        self.ca_file = self.info["ca_file"]
        self.imaps_port = self.info["imaps_port"]
        self.imap_port = self.info["imap_port"]
        self.dbus_address = self.info.get("dbus_address")
        self.users = {u["user"]: u["password"] for u in self.info["users"]}

    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=self.ca_file)
        return ctx

    def stop(self):
        stop_process(self.proc, signal.SIGTERM, 30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Fake:
    """A running `examples/<example>` fake API (fakebot, fakeline, fakentfy) on a free port until
    `stop()`; `requests()` is what it received, each with its `received_at_ms`."""

    def __init__(self, example, *args):
        self.proc = subprocess.Popen(
            [str(TARGET / "examples" / example), *[str(a) for a in args]],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"{example} did not start: {line!r}")
        self.url = line.split("listening on ", 1)[1].strip()

    def requests(self):
        with urllib.request.urlopen(self.url + "/_fake/requests") as r:
            return json.load(r)

    def stop(self):
        stop_process(self.proc, signal.SIGINT, 10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class FakeBot(Fake):
    """The fake Telegram Bot API (`examples/fakebot`), accepting `TOKEN`."""

    TOKEN = "123456:bench-token"

    def __init__(self):
        super().__init__("fakebot", "0", self.TOKEN)


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


TAGS = re.compile(r"<[^>]+>")


def text_of(msg):
    """The text of an `email` message's text parts (HTML tags blanked), as a user's script reads it."""
    parts = []
    for part in msg.walk():
        if part.get_content_maintype() != "text" or part.is_attachment():
            continue
        try:
            content = part.get_content()
        except (LookupError, UnicodeError, AssertionError):
            content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
        if part.get_content_subtype() == "html":
            content = TAGS.sub(" ", content)
        parts.append(content)
    return "\n".join(parts)


def stop_process(proc, sig, grace):
    """Sends `sig` to a running child, waits `grace` seconds, then kills it."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def percentile(values, p):
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(values):
    """p50/p95/max/mean of a list of numbers, as a dict."""
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "max": max(values) if values else float("nan"),
        "mean": statistics.fmean(values) if values else float("nan"),
    }


class NotifySocket:
    """A unix datagram socket standing in for systemd's NOTIFY_SOCKET (sd_notify messages)."""

    def __init__(self, directory):
        import socket

        self.path = str(Path(directory) / f"notify-{os.getpid()}-{id(self)}.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)

    def wait_for(self, state, timeout):
        """Seconds (time.monotonic) when a message containing `state` (e.g. "READY=1") arrived,
        or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                return None
            if state in data.decode(errors="replace").splitlines():
                return time.monotonic()

    def close(self):
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def proc_usage(pid):
    """RSS/peak RSS (kB), CPU seconds (utime+stime) and context switches (voluntary,
    involuntary; summed over the threads, and per thread id in "tasks") of a running process,
    from /proc. A thread that exits takes its counts with it: compare "tasks" between samples."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    kb = lambda k: int(fields[k].split()[0])
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(stat[11]) + int(stat[12])) / ticks
    vol = invol = threads = 0
    tasks = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            t = Path(task, "status").read_text()
        except FileNotFoundError:
            continue
        threads += 1
        switches = 0
        for line in t.splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                vol += int(line.split()[1])
                switches += int(line.split()[1])
            elif line.startswith("nonvoluntary_ctxt_switches:"):
                invol += int(line.split()[1])
                switches += int(line.split()[1])
        tasks[task.name] = switches
    return {
        "rss_kb": kb("VmRSS"),
        "hwm_kb": kb("VmHWM"),
        "cpu_s": cpu,
        "ctxt_voluntary": vol,
        "ctxt_involuntary": invol,
        "threads": threads,
        "tasks": tasks,
    }


def switches_between(a, b):
    """Context switches from sample `a` to sample `b` of proc_usage(): per thread, threads that
    started in between counted in full (those that ended lose their last few)."""
    return sum(n - a["tasks"].get(tid, 0) for tid, n in b["tasks"].items())


def log(*args):
    print(*args, file=sys.stderr, flush=True)
