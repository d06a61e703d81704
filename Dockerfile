# One image for every role: `serve` (all-in-one), `runtime`, `experience`, `migrate`.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
# Dependencies first, so code changes do not rebuild them.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && echo '' > src/lib.rs \
    && cargo build --release --locked && rm -rf src
COPY . .
RUN touch src/main.rs src/lib.rs && cargo build --release --locked \
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
HEALTHCHECK --interval=10s --timeout=4s --start-period=10s --retries=3 \
    CMD ["symphainy", "healthcheck", "--url", "http://127.0.0.1:8000/health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["symphainy"]
CMD ["serve"]
