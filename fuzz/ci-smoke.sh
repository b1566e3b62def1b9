#!/usr/bin/env bash
# Runs each fuzz target briefly against the committed seeds; exits non-zero on a crash, timeout or
# OOM (libFuzzer's exit status). Usage: fuzz/ci-smoke.sh [seconds per target, default 45].
# Needs cargo-fuzz; on the stable toolchain RUSTC_BOOTSTRAP=1 unlocks the nightly-only flags.
# -O: dependencies' debug assertions off, as in the shipped binary (overflow checks stay on:
# fuzz/Cargo.toml), so a known debug-only assertion in mail-parser is not reported as a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
secs="${1:-45}"
export RUSTC_BOOTSTRAP=1
status=0
for target in mail config rules; do
    extra=()
    [ "$target" = mail ] && extra=(-dict="$root/fuzz/mail.dict" -max_len=65536)
    # A scratch corpus dir: new inputs stay out of the committed seeds.
    scratch="$(mktemp -d)"
    echo "== fuzz $target for ${secs}s"
    if ! cargo fuzz run -O --sanitizer none "$target" "$scratch" "$root/fuzz/corpus/$target" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 "${extra[@]}"; then
        echo "!! $target: crash; the input is under fuzz/artifacts/$target/" >&2
        status=1
    fi
    rm -rf "$scratch"
done
exit "$status"
