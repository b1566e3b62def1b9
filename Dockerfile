# brokerwatch for a home server: Telegram (and console) alerts, no desktop.
#
#   docker build -t brokerwatch .
#   docker run -d --name brokerwatch --restart unless-stopped \
#     -v "$PWD/config:/config:ro" -v brokerwatch-data:/data brokerwatch
#
# /config holds config.yaml (start from docker/config.example.yaml: `state_dir: /data`,
# `sinks: {desktop: {enabled: false}}`) and may hold secret files. The container runs as uid 10001:
# that user must be able to read them (`chown -R 10001 config` and `chmod 600` the secrets).
# See README, "Docker on a home server", and docker-compose.yml.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# rusqlite's bundled SQLite needs a C compiler: the slim Rust image has gcc and libc6-dev.
COPY . .
RUN cargo build --release --locked --bin brokerwatch \
 && install -m 0755 target/release/brokerwatch /usr/local/bin/brokerwatch

FROM debian:bookworm-slim
# ca-certificates: the system roots for IMAP TLS and the Telegram Bot API.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin brokerwatch \
 && mkdir -p /config /data \
 && chown brokerwatch:brokerwatch /data \
 && chmod 0700 /data
COPY --from=build /usr/local/bin/brokerwatch /usr/local/bin/brokerwatch
ENV BROKERWATCH_CONFIG=/config/config.yaml \
    XDG_STATE_HOME=/data
VOLUME ["/config", "/data"]
USER brokerwatch
WORKDIR /data
# Reads only the state database (no network): unhealthy when a mailbox has not been checked
# successfully for 3 of its intervals, or the database is corrupt.
HEALTHCHECK --interval=60s --timeout=15s --start-period=2m --retries=3 \
  CMD ["brokerwatch", "health"]
ENTRYPOINT ["brokerwatch"]
CMD ["run"]
