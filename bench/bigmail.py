#!/usr/bin/env python3
"""RSS of `brokerwatch run` around one huge mail: idle, peak, and every 5 s for a minute after.

    python3 bench/bigmail.py [--mb 50] [--after 60] [--baseline PATH] [--no-build]

Each binary (this tree's, and `--baseline` if given, side by side) watches INBOX of its own user
on the bench Dovecot (implicit TLS, console sink). Once it is watching and settled (15 s), the
script samples the idle RSS, APPENDs one plain-text mail of `--mb` MB whose subject makes it a
body-fetch candidate (「ログイン」 from an unknown sender: every byte is fetched, parsed and judged),
and samples VmRSS/VmHWM every 5 s for `--after` seconds. Target (issue #17): RSS back under 2× the
idle RSS within a minute. Writes bench/results/bigmail.json.
"""

import argparse
import imaplib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
from benchlib import BROKERWATCH, Env, log, proc_usage  # noqa: E402
from footprint import Daemon, write_config  # noqa: E402

RESULTS = benchlib.ROOT / "bench" / "results" / "bigmail.json"


def huge_mail(mb):
    line = "これは大きなメールの本文です。This is the body of a very large mail, line "
    lines, size, i = [], 0, 0
    while size < mb * 1_000_000:
        s = f"{line}{i}\r\n"
        lines.append(s)
        size += len(s.encode())
        i += 1
    head = (
        "From: \"Newsletter\" <news@big.example>\r\n"
        "To: someone@example.jp\r\n"
        "Subject: =?UTF-8?B?44Ot44Kw44Kk44Oz5bGl5q2044Gu44GK55+l44KJ44Gb?=\r\n"
        f"Message-ID: <big-{time.time_ns()}@big.example>\r\n"
        "Date: Fri, 04 Dec 2026 12:00:00 +0900\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=UTF-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return (head + "".join(lines)).encode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=50)
    ap.add_argument("--after", type=float, default=60)
    ap.add_argument("--baseline", type=Path, default=None)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--out", default=str(RESULTS))
    a = ap.parse_args()
    if not a.no_build:
        benchlib.build()
    binaries = [("current", BROKERWATCH)] + ([("baseline", a.baseline)] if a.baseline else [])
    mail = huge_mail(a.mb)
    log(f"mail: {len(mail) / 1e6:.1f} MB")
    result = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "mail_bytes": len(mail), "runs": []}
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bw-bigmail") as tmpdir, Env.with_args(
        "--users", len(binaries), "--idle-notify", 3600
    ) as env:
        tmp = Path(tmpdir)
        daemons = []
        try:
            for k, (label, binary) in enumerate(binaries):
                user = f"user{k + 1:03}"
                cfg = write_config(tmp / label, env, [user])
                daemons.append((label, user, Daemon(cfg, tmp / label, binary)))
            for label, _, d in daemons:
                if not d.wait_watching(1, 120):
                    raise RuntimeError(f"{label}: not watching:\n" + "".join(d.lines[-20:]))
            time.sleep(15)
            idle = {label: proc_usage(d.proc.pid)["rss_kb"] / 1024 for label, _, d in daemons}
            log(f"idle RSS MB: {idle}")
            appended = time.monotonic()
            for label, user, _ in daemons:
                imap = imaplib.IMAP4("127.0.0.1", env.imap_port)
                imap.login(user, env.users[user])
                typ, _ = imap.append("INBOX", None, None, mail)
                imap.logout()
                if typ != "OK":
                    raise RuntimeError(f"APPEND failed: {typ}")
            log(f"appended ({time.monotonic() - appended:.1f} s)")
            series = {label: [] for label, _, _ in daemons}
            start = time.monotonic()
            while True:
                now = time.monotonic()
                for label, _, d in daemons:
                    u = proc_usage(d.proc.pid)
                    series[label].append(
                        {"t": round(now - start, 1), "rss_mb": u["rss_kb"] / 1024, "hwm_mb": u["hwm_kb"] / 1024}
                    )
                if now >= start + a.after:
                    break
                time.sleep(5)
        finally:
            for _, _, d in daemons:
                d.stop()
    for label, _, _ in daemons:
        s = series[label]
        end = s[-1]["rss_mb"]
        back = next((x["t"] for x in s if x["t"] > 0 and x["rss_mb"] <= 2 * idle[label] and x["hwm_mb"] > 2 * idle[label]), None)
        r = {"binary": label, "idle_rss_mb": idle[label], "peak_mb": s[-1]["hwm_mb"], "rss_after_mb": end,
             "after_s": s[-1]["t"], "ratio_after_to_idle": end / idle[label], "back_under_2x_at_s": back,
             "series": s}
        result["runs"].append(r)
        print(f"{label:9} idle {idle[label]:6.1f} MB  peak {r['peak_mb']:7.1f} MB  after {r['after_s']:.0f} s "
              f"{end:6.1f} MB ({r['ratio_after_to_idle']:.2f}x idle; target < 2x: "
              f"{'met' if r['ratio_after_to_idle'] < 2 else 'MISSED'})")
        print("          " + " ".join(f"{x['t']:.0f}s:{x['rss_mb']:.0f}" for x in s))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
