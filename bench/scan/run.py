#!/usr/bin/env python3
"""Scan throughput: `brokerwatch scan` against three hand-written imaplib scripts on the same
20,000-mail mailbox in the benchenv Dovecot (TLS on 127.0.0.1), cold and warm.

    python3 bench/scan/run.py [--reps 3] [--naive-reps 1] [--count 20000] [--no-build]
                              [--tools brokerwatch,floor,smart] [--baseline LABEL=PATH]

`--baseline LABEL=PATH` (repeatable) adds the tool LABEL: another brokerwatch binary (e.g. one
built from the commit before a change), run in the same interleaved loop, so a change is measured
side by side.

Per repetition and tool: delete every dovecot.index.cache under the user's Maildir (and drop the
OS page cache when this process may: root with a writable /proc/sys/vm/drop_caches), run the tool
(cold), then run it again at once (warm: Dovecot's cache holds what the cold run fetched, the
files are in the page cache). The tool order rotates between repetitions. Prints a table of
median times, mails/s, what each tool found against the manifest and ratios to brokerwatch;
writes bench/results/scan.json.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
import benchlib  # noqa: E402
import common  # noqa: E402

TOOLS = ["brokerwatch", "naive", "smart", "floor"]
DROP_CACHES = Path("/proc/sys/vm/drop_caches")


def can_drop_page_cache():
    return os.geteuid() == 0 and os.access(DROP_CACHES, os.W_OK)


def make_cold(maildir, drop_page_cache):
    removed = 0
    for cache in maildir.rglob("dovecot.index.cache"):
        cache.unlink()
        removed += 1
    if drop_page_cache:
        os.sync()
        DROP_CACHES.write_text("1\n")
    return removed


def index_once(env, user):
    """SELECT (read-write) once: Dovecot moves new/ to cur/ and assigns the UIDs."""
    m = common.connect(env)
    typ, data = m.select("INBOX")
    common.check(typ, data, "SELECT")
    m.logout()
    return int(data[0])


def write_config(tmp, env_info, user, password):
    pw = tmp / "imap-password"
    pw.write_text(password)
    pw.chmod(0o600)
    cfg = tmp / "config.yaml"
    cfg.write_text(
        "authserv_ids: [mx.brokerwatch.test]\n"
        f"state_dir: {tmp / 'state'}\n"
        "accounts:\n"
        "  - name: bench\n"
        "    imap:\n"
        "      host: localhost\n"
        f"      port: {env_info['imaps_port']}\n"
        f"      username: {user}\n"
        f"      password: {{file: {pw}}}\n"
        f"      ca_file: {env_info['ca_file']}\n"
        "sinks: {desktop: {enabled: false}}\n"
    )
    return cfg


def run_brokerwatch(cfg, manifest, binary=None):
    started = time.monotonic()
    p = subprocess.run(
        [str(binary or benchlib.BROKERWATCH), "--config", str(cfg), "scan", "--since", "2000-01-01", "--json"],
        capture_output=True, text=True,
    )
    elapsed = time.monotonic() - started
    if p.returncode != 0:
        raise RuntimeError(f"brokerwatch scan failed: {p.stderr}")
    found = {}
    for line in p.stdout.splitlines():
        v = json.loads(line)
        if v.get("phishing"):
            found[v.get("message_id") or ""] = "phishing"
        elif v.get("broker"):
            found[v.get("message_id") or ""] = "notice"
    return elapsed, common.score(manifest, found)


def run_script(tool, env, manifest_path):
    started = time.monotonic()
    p = subprocess.run(
        [sys.executable, str(HERE / f"{tool}.py"), "--env", str(env), "--manifest", str(manifest_path)],
        capture_output=True, text=True,
    )
    elapsed = time.monotonic() - started
    if p.returncode != 0:
        raise RuntimeError(f"{tool} failed: {p.stderr}")
    out = json.loads(p.stdout.strip().splitlines()[-1])
    return elapsed, {k: out[k] for k in ("notice", "phishing")}, out["bytes"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--count", type=int, default=20000, help="ordinary mails")
    ap.add_argument("--copies", type=int, default=5, help="copies of each fixture")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--naive-reps", type=int, default=None,
                    help="repetitions of the naive script (default: --reps); it takes minutes a run, "
                         "and its ratio is far from the target")
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--out", type=Path, default=HERE.parent / "results" / "scan.json")
    ap.add_argument("--baseline", action="append", default=[],
                    help="LABEL=PATH: another brokerwatch binary, run as the tool LABEL")
    a = ap.parse_args()
    tools = a.tools.split(",")
    baselines = dict(b.split("=", 1) for b in a.baseline)
    tools += [label for label in baselines if label not in tools]
    if not a.no_build:
        benchlib.build()
    drop = can_drop_page_cache()
    benchlib.log(f"OS page cache drop between cold runs: {'yes' if drop else 'no (not root or read-only /proc/sys)'}")
    user = "alice"
    with benchlib.Env() as env, tempfile.TemporaryDirectory(prefix="bw-scan-") as tmpdir:
        tmp = Path(tmpdir)
        maildir = env.dir / "mail" / user
        manifest_path = tmp / "manifest.json"
        t0 = time.monotonic()
        subprocess.run([sys.executable, str(HERE / "gen_corpus.py"), "--maildir", str(maildir),
                        "--manifest", str(manifest_path), "--count", str(a.count),
                        "--copies", str(a.copies)], check=True)
        benchlib.log(f"corpus written in {time.monotonic() - t0:.1f}s")
        manifest = json.loads(manifest_path.read_text())
        env_file = tmp / "env.json"
        env_file.write_text(json.dumps({"host": "127.0.0.1", "port": env.imaps_port, "ca_file": env.ca_file,
                                        "user": user, "password": env.users[user]}))
        t0 = time.monotonic()
        exists = index_once(env_file, user)
        benchlib.log(f"Dovecot indexed {exists} messages in {time.monotonic() - t0:.1f}s")
        if exists != manifest["count"]:
            raise RuntimeError(f"mailbox holds {exists} messages, manifest {manifest['count']}")
        cfg = write_config(tmp, env.info, user, env.users[user])
        runs = []
        for rep in range(a.reps):
            order = tools[rep % len(tools):] + tools[:rep % len(tools)]
            for tool in order:
                if tool == "naive" and a.naive_reps is not None and rep >= a.naive_reps:
                    continue
                for cache in ("cold", "warm"):
                    if cache == "cold":
                        make_cold(maildir, drop)
                    if tool == "brokerwatch" or tool in baselines:
                        binary = baselines.get(tool)
                        elapsed, s = run_brokerwatch(cfg, manifest, binary)
                        nbytes = None
                    else:
                        elapsed, s, nbytes = run_script(tool, env_file, manifest_path)
                    runs.append({"rep": rep, "tool": tool, "cache": cache, "seconds": elapsed,
                                 "bytes_fetched": nbytes, **s})
                    benchlib.log(f"rep {rep} {tool:11} {cache}: {elapsed:7.2f}s  {common.describe(s)}")
            # Written after every repetition: an interrupted run still leaves its figures.
            result = write_result(a.out, runs, tools, manifest, rep + 1, drop)
    print_table(result, tools)
    benchlib.log(f"wrote {a.out}")


def write_result(out, runs, tools, manifest, reps, drop):
    result = summarise(runs, tools, manifest)
    result.update({
        "mails": manifest["count"], "corpus_bytes": manifest["bytes"], "kinds": manifest["kinds"],
        "reps": reps, "page_cache_dropped": drop, "runs": runs,
        "machine": {"nproc": os.cpu_count(), "loadavg_end": os.getloadavg()},
    })
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    return result


def summarise(runs, tools, manifest):
    table = {}
    for cache in ("cold", "warm"):
        for tool in tools:
            mine = [r for r in runs if r["tool"] == tool and r["cache"] == cache]
            secs = [r["seconds"] for r in mine]
            last = mine[-1]
            table[f"{tool}/{cache}"] = {
                "tool": tool, "cache": cache, "median_s": statistics.median(secs), "all_s": secs,
                "mails_per_s": manifest["count"] / statistics.median(secs),
                "notice": last["notice"], "phishing": last["phishing"],
            }
        if "brokerwatch" in tools:
            bw = table[f"brokerwatch/{cache}"]["median_s"]
            for tool in tools:
                row = table[f"{tool}/{cache}"]
                row["time_vs_brokerwatch"] = row["median_s"] / bw
            # Same-repetition ratios too: the machine is shared, neighbours come and go.
            for tool in tools:
                table[f"{tool}/{cache}"]["runs"] = len(table[f"{tool}/{cache}"]["all_s"])
                per_rep = []
                for rep in sorted({r["rep"] for r in runs}):
                    t = [r["seconds"] for r in runs if r["rep"] == rep and r["cache"] == cache and r["tool"] == tool]
                    b = [r["seconds"] for r in runs if r["rep"] == rep and r["cache"] == cache
                         and r["tool"] == "brokerwatch"]
                    if t and b:
                        per_rep.append(t[0] / b[0])
                table[f"{tool}/{cache}"]["ratio_per_rep"] = per_rep
    targets = {}
    for cache in ("cold", "warm"):
        get = table.get
        if all(get(f"{t}/{cache}") for t in ("brokerwatch", "naive", "smart", "floor")):
            targets[cache] = {
                "naive_over_brokerwatch >= 10": table[f"naive/{cache}"]["time_vs_brokerwatch"],
                "brokerwatch_over_smart <= 1.5": 1 / table[f"smart/{cache}"]["time_vs_brokerwatch"],
                "brokerwatch_over_floor <= 2": 1 / table[f"floor/{cache}"]["time_vs_brokerwatch"],
            }
    # Issue #17: warm ≤ 2×, cold ≤ 1.2× the header floor, on the medians and per repetition.
    floor_targets = {}
    others = [t for t in tools if t not in TOOLS]
    for cache, limit in (("warm", 2.0), ("cold", 1.2)):
        if get(f"brokerwatch/{cache}") and get(f"floor/{cache}"):
            for tool in ["brokerwatch"] + others:
                if not get(f"{tool}/{cache}"):
                    continue
                row = table[f"{tool}/{cache}"]
                per_rep = [1 / r for r in table[f"floor/{cache}"]["ratio_per_rep"]]
                mine = [x * y for x, y in zip(per_rep, row["ratio_per_rep"])]
                floor_targets[f"{tool}/{cache}"] = {
                    "over_floor": row["median_s"] / table[f"floor/{cache}"]["median_s"],
                    "over_floor_per_rep": mine, "limit": limit,
                }
    return {"table": table, "targets": targets, "floor_targets": floor_targets}


def print_table(result, tools):
    print(f"\n{result['mails']} mails, {result['corpus_bytes'] / 1e6:.0f} MB, {result['reps']} reps, "
          f"OS page cache dropped for cold: {result['page_cache_dropped']}")
    print(f"{'tool':12} {'cache':5} {'median s':>9} {'mails/s':>9} {'notices':>14} {'phishing':>14} "
          f"{'x brokerwatch':>13}")
    for cache in ("cold", "warm"):
        for tool in tools:
            r = result["table"][f"{tool}/{cache}"]
            n, p = r["notice"], r["phishing"]
            print(f"{tool:12} {cache:5} {r['median_s']:9.2f} {r['mails_per_s']:9.0f} "
                  f"{n['found']:>4}/{n['expected']:<3}+{n['false']:<4} {p['found']:>4}/{p['expected']:<3}+{p['false']:<4} "
                  f"{r.get('time_vs_brokerwatch', float('nan')):13.2f}")
    for key, t in result.get("floor_targets", {}).items():
        reps = ", ".join(f"{x:.2f}" for x in t["over_floor_per_rep"])
        print(f"{key}: {t['over_floor']:.2f}x the floor (per repetition {reps}; target <= {t['limit']})")
    for cache, t in result["targets"].items():
        print(f"{cache}: naive/brokerwatch {t['naive_over_brokerwatch >= 10']:.1f}x (target >= 10), "
              f"brokerwatch/smart {t['brokerwatch_over_smart <= 1.5']:.2f}x (target <= 1.5), "
              f"brokerwatch/floor {t['brokerwatch_over_floor <= 2']:.2f}x (target <= 2)")


if __name__ == "__main__":
    main()
