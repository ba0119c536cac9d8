# syntax=docker/dockerfile:1
# Build stage: dependencies first, so source changes reuse the cached layer. The `fat`
# profile (Cargo.toml): LTO across crates, one codegen unit, for the fastest binary.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && echo 'fn main() {}' > src/build.rs \
    && echo '' > src/lib.rs \
    && cargo build --profile fat --locked && rm -rf src
COPY src src
COPY migrations migrations
COPY config config
RUN touch src/main.rs src/lib.rs src/build.rs && cargo build --profile fat --locked

# Runtime: slim, non-root, with the configuration and the workflow data (catalogues,
# notification rules, mail templates, the holiday calendar).
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /app rongcuo
WORKDIR /app
COPY --from=build /src/target/fat/rongcuo /usr/local/bin/rongcuo
COPY config config
COPY workflows workflows
RUN mkdir -p data && chown 10001 data
USER 10001
ENV RONGCUO_LISTEN=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["curl", "-fsS", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["rongcuo"]
CMD ["serve"]
