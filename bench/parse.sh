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
LARGE=bench/.corpus/parse-large
if ! ls "$LARGE"/*.eml >/dev/null 2>&1; then
    mkdir -p "$LARGE"
    # One mail with a 2.8 MB base64 attachment (deterministic bytes) after a short text part.
    python3 - "$LARGE/large-attachment.eml" <<'PY'
import base64, random, sys
rnd = random.Random(17)
blob = base64.encodebytes(bytes(rnd.getrandbits(8) for _ in range(2_800_000))).decode()
open(sys.argv[1], "w", newline="").write(
    "From: Sales <sales@shop.example>\r\nTo: you@example.jp\r\nSubject: Quarterly catalogue\r\n"
    "Message-ID: <large-attachment@shop.example>\r\nDate: Fri, 04 Dec 2026 10:00:00 +0900\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\n"
    "Content-Type: text/plain; charset=UTF-8\r\n\r\nPlease find the catalogue attached.\r\n--b1\r\n"
    "Content-Type: application/pdf; name=catalogue.pdf\r\nContent-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment; filename=catalogue.pdf\r\n\r\n"
    + blob.replace("\n", "\r\n") + "--b1--\r\n")
PY
fi
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
