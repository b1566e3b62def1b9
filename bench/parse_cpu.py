#!/usr/bin/env python3
"""Parse + classify in CPU seconds, shipped binaries against Python's `email` + `re`, taking turns
(the method of issue #17: `brokerwatch test --json` over the mails, start-up subtracted).

Wall-clock rates on this shared 2-core machine move with the neighbours' load (Python's side ran
at 89 and 154 mails/s seven minutes apart); CPU time moves much less, and the two sides take
turns round by round, so drift hits both alike. Start-up is taken out: each binary runs
`test --json` over the files once and over the same files three times; half the difference is
one pass of parse + classify + assess + JSON output, with the config loaded and every pattern it
needs compiled in both runs (the start-up and the patterns' first-use compilation, what is left
of the single run, is reported apart). Python's pass is bench/parse_python.py's `classify` over the same bytes
(its rule packs compiled before the clock starts), timed with `time.process_time`.

    python3 bench/parse_cpu.py [--rounds 5] [--binary LABEL=PATH ...] [--large]

Sets: the fixtures + bench/.corpus/parse (bench/parse.sh writes both corpora), and with
`--large` also that plus bench/.corpus/parse-large (one 2.8 MB base64 attachment). The best
(least CPU) round of each counts. Writes bench/results/parse_cpu.json and prints a table.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
import parse_python  # noqa: E402
from benchlib import BROKERWATCH, log  # noqa: E402

ROOT = benchlib.ROOT
CONFIG = ROOT / "tests" / "fixtures" / "config.yaml"
RESULTS = ROOT / "bench" / "results" / "parse_cpu.json"
SETS = {
    "corpus": ["tests/fixtures/mail", "bench/.corpus/parse"],
    "corpus+large": ["tests/fixtures/mail", "bench/.corpus/parse", "bench/.corpus/parse-large"],
}


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def test_cpu(binary, files):
    """CPU seconds of `brokerwatch test --json FILES` (output discarded)."""
    before = children_cpu()
    subprocess.run(
        [str(binary), "--config", str(CONFIG), "test", "--json", *map(str, files)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,  # exit status 1 means "something alert-worthy", which the corpus holds
    )
    return children_cpu() - before


def python_cpu(packs, mails):
    started = time.process_time()
    for m in mails:
        parse_python.classify(packs, m)
    return time.process_time() - started


def measure(binaries, files, rounds, packs):
    """Per-pass CPU seconds of each binary and of Python, taking turns round by round. A binary's
    pass is (least CPU over the rounds of `test` over the files three times − least CPU of once)
    / 2: differences of single rounds are noisier than the rounds themselves."""
    mails = [f.read_bytes() for f in files]
    once, thrice, py = {}, {}, []
    for r in range(rounds):
        for label, binary in binaries:
            once.setdefault(label, []).append(test_cpu(binary, files))
            thrice.setdefault(label, []).append(test_cpu(binary, files * 3))
        py.append(python_cpu(packs, mails))
        log(f"round {r + 1}/{rounds}: " + ", ".join(
            f"{k} {min(thrice[k]):.3f}/{min(once[k]):.3f} s" for k in once) + f", python {min(py):.3f} s")
    best = {label: (min(thrice[label]) - min(once[label])) / 2 for label in once}
    best["python"] = min(py)
    startup = {label: min(once[label]) - best[label] for label in once}
    return best, startup, len(mails), sum(len(m) for m in mails)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--binary", action="append", default=[], help="LABEL=PATH (default: release)")
    ap.add_argument("--large", action="store_true", help="also the set with the large attachment")
    args = ap.parse_args()
    binaries = [tuple(b.split("=", 1)) for b in args.binary] or [("release", str(BROKERWATCH))]
    # The generated corpora, written on first use (as bench/parse.sh does).
    subprocess.run([str(ROOT / "bench" / "parse_corpus.sh")], check=True)
    packs, _ = parse_python.load_packs()
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "loadavg_before": os.getloadavg(),
        "command": "python3 bench/parse_cpu.py " + " ".join(sys.argv[1:]),
        "sets": {},
    }
    for name, dirs in SETS.items():
        if name == "corpus+large" and not args.large:
            continue
        files = parse_python.files_of([ROOT / d for d in dirs])
        best, startup, n, nbytes = measure(binaries, files, args.rounds, packs)
        result["sets"][name] = {"mails": n, "bytes": nbytes, "cpu_s": best, "startup_cpu_s": startup}
        print(f"{name}: {n} mails, {nbytes / 2**20:.1f} MiB; best of {args.rounds} rounds")
        print(f"  {'':<12}{'CPU s':>8}{'mails/s':>10}{'MiB/s':>8}{'× Python':>10}{'start-up s':>12}")
        for label, cpu in best.items():
            up = f"{startup[label]:>12.3f}" if label in startup else ""
            print(
                f"  {label:<12}{cpu:>8.3f}{n / cpu:>10.0f}{nbytes / cpu / 2**20:>8.2f}"
                f"{best['python'] / cpu:>10.1f}{up}"
            )
    result["loadavg_after"] = os.getloadavg()
    print(f"load average {result['loadavg_before'][0]:.2f} before, {result['loadavg_after'][0]:.2f} after")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
