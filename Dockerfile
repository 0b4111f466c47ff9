# The operators API server image (not built in CI). Multi-stage: compile with the dev
# dependencies, ship only the compiled code and the production dependencies. Runs as the
# unprivileged `node` user (uid 1000) and writes nothing outside /app/data and /tmp, so it runs
# with a read-only root filesystem (deploy/base/deployment.yaml mounts emptyDirs there).
#   docker build -t ghcr.io/operators-apiserver/operators-apiserver:0.1.0 .

FROM node:20-bookworm-slim AS build
WORKDIR /src
# better-sqlite3 falls back to a source build where no prebuilt binary matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY apiserver apiserver
COPY registry registry
COPY controllers controllers
COPY openapi openapi
COPY plugin plugin
COPY hack/copy-generated.mjs hack/copy-generated.mjs
# tsconfig.build.json compiles only what the image runs (no test/, no hack/ benchmarks).
RUN npm run build:image \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# Read at run time (tsc does not copy them): the performer gRPC definitions.
COPY --from=build /src/controllers/hourglass/proto ./controllers/hourglass/proto
COPY bin ./bin
# Writable scratch space when the root filesystem is read-only: mount volumes on both.
RUN mkdir -p /app/data && chown 1000:1000 /app/data
USER 1000:1000
EXPOSE 8443
ENTRYPOINT ["node", "dist/apiserver/main.js"]
