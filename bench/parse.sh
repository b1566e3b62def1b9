#!/bin/sh
# Parse + classify, side by side: criterion (benches/parse.rs, pipeline::judge) and Python's email
# package + re (bench/parse_python.py) on the same files, then the ratio. Issue #7 part 3.
#
#   bench/parse.sh            (CARGO_TARGET_DIR is honoured; results in bench/results/parse.json)
set -eu
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-target}"
CORPUS=bench/.corpus/parse
if ! ls "$CORPUS"/*.eml >/dev/null 2>&1; then
    python3 bench/scan/gen_corpus.py --copies 0 --count 1000 --plain "$CORPUS"
fi
cargo bench --locked --bench parse -- --noplot parse_classify
python3 bench/parse_python.py tests/fixtures/mail "$CORPUS" --rounds 3 > "$TARGET/parse-python.json"
mkdir -p bench/results
python3 - "$TARGET" <<'PY'
import json, sys
target = sys.argv[1]
py = json.load(open(f"{target}/parse-python.json"))
def mean_ns(name):
    return json.load(open(f"{target}/criterion/parse_classify/{name}/new/estimates.json"))["mean"]["point_estimate"]
ns = mean_ns("mails")
rust = {"mails": py["mails"], "bytes": py["bytes"], "seconds": ns / 1e9,
        "mails_per_s": py["mails"] / (ns / 1e9), "mib_per_s": py["bytes"] / (ns / 1e9) / (1 << 20)}
ratio = rust["mails_per_s"] / py["mails_per_s"]
print(f"corpus: {py['mails']} mails, {py['bytes'] / (1 << 20):.1f} MiB")
print(f"brokerwatch judge: {rust['mails_per_s']:9.0f} mails/s {rust['mib_per_s']:8.2f} MiB/s")
print(f"python email + re: {py['mails_per_s']:9.0f} mails/s {py['mib_per_s']:8.2f} MiB/s")
print(f"ratio: {ratio:.1f}x (target >= 10x): {'met' if ratio >= 10 else 'MISSED'}")
json.dump({"brokerwatch": rust, "python": py, "ratio": ratio}, open("bench/results/parse.json", "w"), indent=1)
PY
