"""Shared plumbing for the benchmark scripts under bench/.

Everything runs on 127.0.0.1: the tests' Dovecot (and optionally a private desktop) through
`examples/benchenv`, and the fake Telegram Bot API through `examples/fakebot`. Both are stopped by
PID when the script ends.
"""

import json
import os
import signal
import ssl
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
        args = [str(TARGET / "examples" / "benchenv")] + (["--desktop"] if desktop else [])
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
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class FakeBot:
    """A running `examples/fakebot` on a free port until `stop()`."""

    TOKEN = "123456:bench-token"

    def __init__(self):
        self.proc = subprocess.Popen(
            [str(TARGET / "examples" / "fakebot"), "0", self.TOKEN],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"fakebot did not start: {line!r}")
        self.url = line.split("listening on ", 1)[1].strip()

    def requests(self):
        with urllib.request.urlopen(self.url + "/_fake/requests") as r:
            return json.load(r)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


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


def log(*args):
    print(*args, file=sys.stderr, flush=True)
