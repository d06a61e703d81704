# One image for every role: `serve` (all-in-one), `runtime`, `experience`, `migrate`.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
# Dependencies first, so code changes do not rebuild them: the manifests, and a stub for every
# file a target of Cargo.toml names (cargo refuses a manifest whose targets are missing).
# STUBS is the one list of them; .ci/docker-deps-stage reruns this stage's RUN without Docker.
COPY Cargo.toml Cargo.lock ./
ARG STUBS="src/main.rs src/lib.rs build.rs benches/runtime.rs"
RUN for f in $STUBS; do mkdir -p "$(dirname "$f")" && echo 'fn main() {}' > "$f"; done \
    && cargo build --release --locked && rm -f $STUBS
COPY . .
RUN touch src/main.rs src/lib.rs build.rs && cargo build --release --locked \
    && strip target/release/symphainy

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin symphainy \
    && mkdir -p /data && chown symphainy /data
COPY --from=build /src/target/release/symphainy /usr/local/bin/symphainy
USER symphainy
ENV SYMPHAINY_DATA_DIR=/data \
    SYMPHAINY_HTTP_ADDR=0.0.0.0:8080 \
    SYMPHAINY_RUNTIME_ADDR=127.0.0.1:8000
VOLUME ["/data"]
EXPOSE 8080 8000
# Probes the planes the environment configures (SYMPHAINY_RUNTIME_ADDR, SYMPHAINY_HTTP_ADDR):
# whichever this container runs (serve, runtime or experience) must answer 200.
HEALTHCHECK --interval=10s --timeout=4s --start-period=10s --retries=3 \
    CMD ["symphainy", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["symphainy"]
CMD ["serve"]
