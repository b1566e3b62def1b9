#!/usr/bin/env bash
# RUSTC_WRAPPER for the fuzz build (fuzz/ci-smoke.sh sets it). cargo-fuzz builds every crate of
# the tree with coverage instrumentation at opt-level 3, but the targets (parse, classify and
# assess a mail; load a config; load a rule pack) never run the daemon's network, TLS, D-Bus,
# SQLite and command-line crates: their instrumentation adds nothing to the coverage map, only
# build time. For those crates this drops the sancov flags and builds them at opt-level 0.
# Every other crate (brokerwatch, mail-parser, regex, serde-saphyr, url, …) is built exactly as
# cargo-fuzz asks. A crate missing from this list is built as before, so the list can lag.
rustc="$1"
shift
crate=""
prev=""
for arg in "$@"; do
    [ "$prev" = --crate-name ] && crate="$arg"
    prev="$arg"
done
case "$crate" in
    tokio* | hyper* | h2 | http | http_body* | httparse | reqwest | teloxide* | dptree | rustls* | \
        webpki* | ring | quinn* | rusqlite | libsqlite3_sys | hashlink | zbus* | zvariant* | \
        zruntime | notify_rust | async_imap | imap_proto | nom | async_compression | \
        compression_* | flate2 | miniz_oxide | zlib_rs | tracing_subscriber | tracing_journald | \
        tracing_log | tracing_serde | sharded_slab | clap* | tower* | mio | socket2 | sd_notify | \
        want | ipnet | mime | mime_guess | serde_with* | schemars | futures* | async_channel | \
        event_listener* | stop_token | sync_wrapper | serde_urlencoded | tempfile) ;;
    *) exec "$rustc" "$@" ;;
esac
args=()
for arg in "$@"; do
    case "$arg" in
        -Cpasses=sancov-module | -Cllvm-args=-sanitizer-coverage-* | \
            -Cllvm-args=-simplifycfg-branch-fold-threshold=0) ;;
        *) args+=("$arg") ;;
    esac
done
# Last on the command line wins. Debug assertions stay off as in the rest of the -O build
# (rustc turns them on by default at opt-level 0).
exec "$rustc" "${args[@]}" -Copt-level=0 -Cdebug-assertions=off
