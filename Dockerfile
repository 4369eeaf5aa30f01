# syntax=docker/dockerfile:1
# Attune in production: the built JavaScript on plain Node, as a non-root user, with a health check.
# Build: docker build -t attune .    Run: docker run -p 3000:3000 attune    (see docs/operations.md)

# --- build: every dependency, then the client bundle (precompressed) and the compiled server ---------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY client ./client
COPY server ./server
COPY shared ./shared
COPY scripts ./scripts
RUN npm run build

# --- runtime: production dependencies and the build output only -------------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: nothing in production needs an install script, so none may run.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/build ./build
COPY --from=build /app/client/dist ./client/dist
# The image's unprivileged "node" user; the files stay root-owned and read-only to it.
USER node
EXPOSE 3000
# Liveness: /healthz answers while the process runs (Node's own fetch: the slim image has no curl).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node runs as PID 1 and handles SIGTERM itself (server/main.ts): `docker stop` closes gracefully, exit 0.
CMD ["node", "build/server/main.js"]
