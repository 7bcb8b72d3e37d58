# syntax=docker/dockerfile:1
# Build:  docker build -t sip-realtime-bridge .
# Run:    docker run --read-only --tmpfs /tmp -p 8080:8080 -e OPENAI_API_KEY=… -e OPENAI_WEBHOOK_SECRET=… sip-realtime-bridge

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

# Compilers for native modules (node-gyp, e.g. better-sqlite3 when no prebuilt binary fits). Never shipped.
FROM base AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./

# All dependencies, then the TypeScript build (tsconfig.build.json: apps/, libs/, bench/ → dist/).
# The whole context is copied (.dockerignore keeps out node_modules, dist, .env, data): this stage is never shipped.
FROM toolchain AS build
RUN --mount=type=cache,target=/root/.npm npm ci
COPY . .
RUN npm run build && rm -f dist/.tsbuildinfo

# Production dependencies only, install scripts included (native addons are compiled here).
FROM toolchain AS prod-deps
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev

FROM base AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    DATA_DIR=/app/data
# package.json is needed at run time: its "imports" map (#calls, #config, …) points into dist/.
# Code stays root-owned (read-only for the app); only /app/data belongs to the runtime user.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/data && chown 1000:1000 /app/data
# uid 1000 is the image's `node` user; numeric so Kubernetes runAsNonRoot can verify it.
USER 1000:1000
VOLUME ["/app/data"]
EXPOSE 8080
STOPSIGNAL SIGTERM
# Liveness only (the process answers); readiness is GET /health/ready. No curl in slim images: use node's fetch.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/apps/bridge/src/main.js"]
