#!/usr/bin/env bash
# Runs each fuzz target briefly against the committed seeds; exits non-zero on a crash, timeout or
# OOM (libFuzzer's exit status). Usage: fuzz/ci-smoke.sh [seconds per target, default 45];
# `fuzz/ci-smoke.sh --build-only` builds the targets with the same flags and runs nothing
# (scripts/test starts that beside its own build, so the runs later find it done).
# Needs cargo-fuzz; on the stable toolchain RUSTC_BOOTSTRAP=1 unlocks the nightly-only flags.
# -O: dependencies' debug assertions off, as in the shipped binary (overflow checks stay on:
# fuzz/Cargo.toml), so a known debug-only assertion in mail-parser is not reported as a crash.
# libFuzzer's thousands of progress lines go to target/fuzz-smoke/TARGET.log; this prints where,
# each run's last line, and the log's tail on a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
secs="${1:-45}"
logs="$root/target/fuzz-smoke"
mkdir -p "$logs"
export RUSTC_BOOTSTRAP=1
# cargo-fuzz passes `--config profile.release.debug="line-tables-only"`, which overrides the
# `debug = false` of fuzz/Cargo.toml; RUSTFLAGS come last on rustc's command line, so this turns
# the line tables off again: every dependency is built instrumented, and debuginfo for all of it
# is build time a 20-second smoke run has no use for. A crash still prints function names
# (symbols) and saves its input.
export RUSTFLAGS="${RUSTFLAGS:-} -Cdebuginfo=0"
# The daemon-only crates uninstrumented at opt-level 0 (see the wrapper); a wrapper of the
# caller's own (sccache) is left alone.
export RUSTC_WRAPPER="${RUSTC_WRAPPER:-$root/fuzz/rustc-wrapper.sh}"
if [ "$secs" = --build-only ]; then
    exec cargo fuzz build -O --sanitizer none
fi
status=0
for target in mail config rules; do
    extra=()
    [ "$target" = mail ] && extra=(-dict="$root/fuzz/mail.dict" -max_len=65536)
    # A scratch corpus dir: new inputs stay out of the committed seeds.
    scratch="$(mktemp -d)"
    log="$logs/$target.log"
    echo "== fuzz $target for ${secs}s (output: $log)"
    if cargo fuzz run -O --sanitizer none "$target" "$scratch" "$root/fuzz/corpus/$target" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 "${extra[@]}" >"$log" 2>&1; then
        grep -E '^Done [0-9]+ runs' "$log" || tail -1 "$log"
    else
        tail -40 "$log" >&2
        echo "!! $target: crash; the input is under fuzz/artifacts/$target/ (output: $log)" >&2
        status=1
    fi
    rm -rf "$scratch"
done
exit "$status"
