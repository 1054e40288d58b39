# One image for the API, the worker, the `upgrades` CLI and the Partner Center simulator (different commands).
# Node 24 LTS: Node 20 reached its end of life on 2026-04-30.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
# Compiles to dist/ and bundles the workflow code once (dist/workflow-bundle.js): workers start without webpack.
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# `docker build --build-arg BUILD_ID=$(git rev-parse --short HEAD)`: the worker's Worker Deployment build id (README
# "Releases"). Empty: an unversioned worker.
ARG BUILD_ID=""
ENV WORKER_BUILD_ID=${BUILD_ID}
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The CLI as a command on the PATH: `docker compose exec api upgrades show upg_…`.
RUN ln -s /app/dist/src/cli/main.js /usr/local/bin/upgrades && chmod +x /app/dist/src/cli/main.js
# The image's unprivileged user (uid 1000), as the Helm chart's securityContext expects.
USER node
# Overridden per service: the worker runs dist/src/worker.js, the simulator dist/src/partner-center/simulator/main.js.
CMD ["node", "dist/src/server.js"]
