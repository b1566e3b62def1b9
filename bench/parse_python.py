#!/usr/bin/env python3
"""Parse + classify in Python, the baseline of benches/parse.rs: the same files, parsed with the
`email` package (policy.default), the text NFKC-normalised, and the same rule packs (rules/*.yaml)
applied with `re` (case-insensitive): broker by sender domain, display name or claim wording, then
the pack's rules in order (from/subject/body/text/all/not) and their field patterns.

    python3 bench/parse_python.py DIR_OR_FILE... [--rounds 3]

Prints mails/s and MiB/s (the unit criterion's Throughput::Bytes reports) of the best round, and
one JSON line on stdout. Less work than brokerwatch: no look-alike domain analysis, no link
extraction or assessment of Authentication-Results, so the ratio is a lower bound.
"""

import argparse
import email
import email.policy
import json
import re
import sys
import time
import unicodedata
from pathlib import Path

import yaml

from benchlib import text_of

ROOT = Path(__file__).resolve().parent.parent
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def normalize(s):
    return CONTROL.sub("", unicodedata.normalize("NFKC", s.replace("\r\n", "\n")))


def compile_all(patterns, skipped):
    out = []
    for p in patterns or []:
        try:
            out.append(re.compile(normalize(p), re.I))
        except re.error:
            skipped.append(p)
    return out


def compile_rules(rules, skipped):
    return [{
        "id": r["id"],
        "event": r["event"],
        **{k: compile_all(r.get(k), skipped) for k in ("from", "subject", "body", "text", "all", "not")},
        "fields": {name: compile_all(ps, skipped) for name, ps in (r.get("fields") or {}).items()},
    } for r in rules or []]


def load_packs():
    """The broker packs; the generic rules (rules/_generic.yaml, `generic: true`) are tried after
    each pack's own, as the engine does."""
    packs, skipped, generic = [], [], []
    for f in sorted((ROOT / "rules").glob("*.yaml")):
        raw = yaml.safe_load(f.read_text())
        if raw.get("generic"):
            generic = compile_rules(raw.get("rules"), skipped)
            continue
        packs.append({
            "id": raw["broker"],
            "domains": [d.lower() for d in raw.get("domains", [])],
            "names": [normalize(n).lower() for n in raw.get("names", [])],
            "claims": compile_all(raw.get("claims"), skipped),
            "rules": compile_rules(raw.get("rules"), skipped),
        })
    for p in packs:
        p["rules"] = p["rules"] + generic
    return packs, skipped


def owns(pack, domain):
    return any(domain == d or domain.endswith("." + d) for d in pack["domains"])


def classify(packs, raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    try:
        addrs = msg["From"].addresses if msg["From"] else ()
    except (AttributeError, IndexError, ValueError):
        addrs = ()
    name = addrs[0].display_name if addrs else ""
    address = addrs[0].addr_spec if addrs else ""
    domain = address.rsplit("@", 1)[-1].lower() if "@" in address else ""
    subject = normalize(str(msg.get("Subject", "")))
    body = normalize(text_of(msg))
    both = subject + "\n" + body
    pack = next((p for p in packs if domain and owns(p, domain)), None)
    if pack is None and name:
        n = normalize(name).lower()
        pack = next((p for p in packs if any(a in n for a in p["names"])), None)
    if pack is None:
        best = None
        for p in packs:
            for c in p["claims"]:
                m = c.search(both)
                if m and (best is None or m.start() < best[0]):
                    best = (m.start(), p)
        pack = best[1] if best else None
    if pack is None:
        return None, None, {}
    hay = {"from": address, "subject": subject, "body": body, "text": both}
    for rule in pack["rules"]:
        if not all(not rule[k] or any(p.search(hay[k]) for p in rule[k]) for k in hay):
            continue
        if not all(p.search(both) for p in rule["all"]) or any(p.search(both) for p in rule["not"]):
            continue
        fields = {}
        for fname, pats in rule["fields"].items():
            for p in pats:
                m = p.search(subject) or p.search(body)
                if m and m.groupdict().get(fname):
                    fields[fname] = m.group(fname).strip()
                    break
        return pack["id"], rule["event"], fields
    return pack["id"], None, {}


def files_of(paths):
    out = []
    for p in map(Path, paths):
        out += sorted(p.glob("*.eml")) if p.is_dir() else [p]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    packs, skipped = load_packs()
    if skipped:
        print("patterns Python's re cannot compile (skipped): %d" % len(skipped), file=sys.stderr)
    mails = [f.read_bytes() for f in files_of(a.paths)]
    nbytes = sum(map(len, mails))
    best, brokers = None, 0
    for _ in range(a.rounds):
        started = time.perf_counter()
        brokers = sum(1 for m in mails if classify(packs, m)[0])
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    out = {"mails": len(mails), "bytes": nbytes, "seconds": best, "mails_per_s": len(mails) / best,
           "mib_per_s": nbytes / best / (1 << 20), "broker_mails": brokers, "skipped_patterns": len(skipped)}
    print("python email+re: %d mails, %.1f MiB: %.0f mails/s, %.2f MiB/s (best of %d), %d broker mails"
          % (len(mails), nbytes / (1 << 20), out["mails_per_s"], out["mib_per_s"], a.rounds, brokers),
          file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
