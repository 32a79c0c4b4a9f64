# syntax=docker/dockerfile:1
#
# One image for the whole product: the `crm` binary runs every role (`crm migrate`,
# `crm serve <subgraph>`, `crm router`), so compose and any other deployment pick the role with
# the command instead of building one image per service.
#
#   docker build -t mtenant-crm:local .
#
# BuildKit is required for the cache mounts (the default builder in current Docker).

# ---- builder -------------------------------------------------------------------------------
# Same Debian release as the runtime stage, so the binary links against the glibc it runs on.
FROM rust:1.95-bookworm AS builder

# The rust image already has gcc and make. C dependencies need more: aws-lc-sys (rustls'
# crypto) may drive CMake and wants clang for some targets, and pkg-config is how build scripts
# find system libraries. Installing them up front keeps a dependency bump from breaking the build.
RUN apt-get update \
    && apt-get install -y --no-install-recommends cmake clang pkg-config \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .

# Cache mounts keep the crate registry and compiled dependencies between builds, so a source
# change recompiles only the workspace crates. `--locked` builds exactly what Cargo.lock says.
# The binary is copied out of the target cache in the same step: cache mounts are not part of
# the image.
RUN --mount=type=cache,id=mtenant-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=mtenant-cargo-git,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,id=mtenant-target,target=/src/target,sharing=locked \
    cargo build --release --locked --bin crm \
    && install -D -m 0755 target/release/crm /out/crm

# ---- web app -------------------------------------------------------------------------------
# The Vue app, built from the lockfile; its typed operations are committed, so no codegen here.
FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN npm run build

# ---- runtime -------------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

# ca-certificates: outbound TLS; some of the binary's TLS clients verify against the system roots.
# curl: the compose healthchecks probe /health and /readiness; the slim image has no HTTP client.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*

# A fixed, unprivileged uid/gid so volume and file permissions are predictable across hosts.
RUN groupadd --system --gid 10001 crm \
    && useradd --system --uid 10001 --gid crm --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin crm

WORKDIR /app
COPY --from=builder /out/crm /usr/local/bin/crm
# The router reads its config from a file; the config names `supergraph.graphql` relative to its
# own folder, so both go side by side. Owned by root: the service only reads them.
COPY router/router.config.yaml router/supergraph.graphql /app/router/

# The built app, served by `crm web` (and `crm up`).
COPY --from=web /web/dist /app/web/dist

ENV ROUTER_CONFIG_FILE_PATH=/app/router/router.config.yaml
ENV WEB_DIST=/app/web/dist

# Documentation only: web 3000, router 4000, subgraphs auth..communication 8080-8084.
EXPOSE 3000 4000 8080-8084

USER crm:crm

# `crm` handles SIGTERM itself (graceful shutdown), so it runs directly as PID 1.
ENTRYPOINT ["crm"]
# No role is a safe default (each needs its backing services), so print the usage; compose and
# other deployments pass `migrate`, `serve <subgraph>`, `router` or `web`.
CMD ["--help"]
