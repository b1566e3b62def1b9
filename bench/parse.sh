#!/bin/sh
# Parse + classify, side by side: criterion (benches/parse.rs, pipeline::judge) and Python's email
# package + re (bench/parse_python.py) on the same files, then the ratio. Issue #7 part 3.
#
#   bench/parse.sh            (CARGO_TARGET_DIR is honoured; results in bench/results/parse.json)
set -eu
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-target}"
CORPUS=bench/.corpus/parse
LARGE=bench/.corpus/parse-large
bench/parse_corpus.sh
cargo bench --locked --bench parse -- --noplot parse_classify
python3 bench/parse_python.py tests/fixtures/mail "$CORPUS" --rounds 3 > "$TARGET/parse-python.json"
python3 bench/parse_python.py tests/fixtures/mail "$CORPUS" "$LARGE" --rounds 3 > "$TARGET/parse-python-large.json"
mkdir -p bench/results
python3 - "$TARGET" <<'PY'
import json, sys
target = sys.argv[1]
def mean_ns(name):
    return json.load(open(f"{target}/criterion/parse_classify/{name}/new/estimates.json"))["mean"]["point_estimate"]
def compare(python_json, bench, title):
    py = json.load(open(f"{target}/{python_json}"))
    s = mean_ns(bench) / 1e9
    rust = {"mails": py["mails"], "bytes": py["bytes"], "seconds": s,
            "mails_per_s": py["mails"] / s, "mib_per_s": py["bytes"] / s / (1 << 20)}
    ratio = rust["mails_per_s"] / py["mails_per_s"]
    print(f"{title}: {py['mails']} mails, {py['bytes'] / (1 << 20):.1f} MiB")
    print(f"brokerwatch judge: {rust['mails_per_s']:9.0f} mails/s {rust['mib_per_s']:8.2f} MiB/s")
    print(f"python email + re: {py['mails_per_s']:9.0f} mails/s {py['mib_per_s']:8.2f} MiB/s")
    print(f"ratio: {ratio:.1f}x (target >= 20x): {'met' if ratio >= 20 else 'MISSED'}")
    return {"brokerwatch": rust, "python": py, "ratio": ratio}
out = compare("parse-python.json", "mails", "corpus")
out["with_large"] = compare("parse-python-large.json", "mails_with_large", "with the large attachment")
json.dump(out, open("bench/results/parse.json", "w"), indent=1)
PY
