# binderbot: one process running the chat adapters its config enables.
#   docker build -t binderbot .
#   docker run -v binderbot-data:/data -e GITHUB_TOKEN -e SLACK_BOT_TOKEN -e SLACK_APP_TOKEN \
#     -v $PWD/team.yaml:/config/team.yaml -e BINDERBOT_CONFIG=/config/team.yaml binderbot
# Node 24: an LTS line (security fixes until April 2028), where every dependency installs without an
# engine warning; Node 20, the development machines' line and the one CI tests, reached its end of
# life in April 2026 (docs/operations.md says what is tested on which line).
ARG NODE_IMAGE=node:24-bookworm-slim

# Build stage: python3/make/g++ compile sqlite3's native module; `npm ci` runs the `prepare` script,
# which compiles src/ and adapters/ into dist/ (tsc is a dev dependency, pruned afterwards).
FROM ${NODE_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY adapters ./adapters
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund

# Runtime stage: the compiled build and production dependencies; no compiler, no TypeScript sources.
FROM ${NODE_IMAGE}
# git for the chart mirrors.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY scripts/build-state.mjs ./scripts/
COPY config ./config

# A user of its own; state (sqlite store, git mirrors) under the /data volume.
RUN useradd --create-home --uid 10001 binderbot \
 && mkdir -p /data && chown binderbot /data
USER binderbot
ENV NODE_ENV=production \
    BINDERBOT_DATA_DIR=/data
VOLUME ["/data"]
# No EXPOSE: the shipped config has the HTTP server off (http.port: 0); a team config with
# http: { port: 8080 } (health probes, /metrics, Slack http mode) publishes it with docker run -p.
ENTRYPOINT ["node", "/app/bin/binderbot.js"]
CMD ["run"]
