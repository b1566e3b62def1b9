#!/usr/bin/env bash
# Writes the parse benchmarks' corpora when missing: bench/.corpus/parse (1,000 generated ordinary
# mails) and bench/.corpus/parse-large (one mail with a 2.8 MB base64 attachment). Used by
# bench/parse.sh and bench/parse_cpu.py.
set -eu
cd "$(dirname "$0")/.."
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
