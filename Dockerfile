# brokerwatch for a home server: Telegram (and console) alerts, no desktop.
#
#   docker build -t brokerwatch .
#   podman build --format docker -t brokerwatch .     # podman: docker format, or HEALTHCHECK is dropped
#   docker run -d --name brokerwatch --restart unless-stopped \
#     -v "$PWD/config:/config:ro" -v brokerwatch-data:/data brokerwatch
#
# /config holds config.yaml (start from docker/config.example.yaml: `state_dir: /data`,
# `sinks: {desktop: {enabled: false}}`) and may hold secret files. The container runs as
# uid:gid 10001:10001: that user must be able to read them (`chown -R 10001:10001 config` and
# `chmod 600` the secrets). See README, "Docker on a home server", and docker-compose.yml.
# scripts/container-check builds this file unchanged and runs the image the way the README does.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# rusqlite's bundled SQLite needs a C compiler: the slim Rust image has gcc and libc6-dev.
# Dependencies first, in their own layer: with only the manifests and stub targets, this layer is
# rebuilt when Cargo.toml or Cargo.lock change, not on every source change.
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir -p src tests benches \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs tests/tests.rs benches/parse.rs \
 && cargo build --profile dist --locked --bin brokerwatch \
 && rm -rf src tests benches
COPY . .
# NOTE: the stubs' build is newer than the real sources' mtimes from the build context; touch
# them so cargo rebuilds the crate itself instead of shipping the empty stub.
RUN touch src/main.rs src/lib.rs build.rs \
 && cargo build --profile dist --locked --bin brokerwatch \
 && install -m 0755 target/dist/brokerwatch /usr/local/bin/brokerwatch

FROM debian:bookworm-slim
# ca-certificates: the system roots for IMAP TLS and the Telegram Bot API.
# The group first, with its own gid: `useradd --user-group` would pick a system gid (999), not the
# 10001 that README and docker-compose.yml tell users to chown to.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 brokerwatch \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin brokerwatch \
 && mkdir -p /config /data \
 && chown 10001:10001 /data \
 && chmod 0700 /data
COPY --from=build /usr/local/bin/brokerwatch /usr/local/bin/brokerwatch
ENV BROKERWATCH_CONFIG=/config/config.yaml \
    XDG_STATE_HOME=/data
VOLUME ["/config", "/data"]
USER 10001:10001
WORKDIR /data
# Reads only the state database (no network): unhealthy when a mailbox has not been checked
# successfully for 3 of its intervals, or the database is corrupt.
HEALTHCHECK --interval=60s --timeout=15s --start-period=2m --retries=3 \
  CMD ["brokerwatch", "health"]
ENTRYPOINT ["brokerwatch"]
CMD ["run"]
