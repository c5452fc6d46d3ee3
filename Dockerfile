# binderbot: one process running the chat adapters its config enables.
#   docker build -t binderbot .
#   docker run -v binderbot-data:/data -e GITHUB_TOKEN -e SLACK_BOT_TOKEN -e SLACK_APP_TOKEN \
#     -v $PWD/team.yaml:/config/team.yaml -e BINDERBOT_CONFIG=/config/team.yaml -p 8080:8080 binderbot
# Node 22 (an LTS line); the code also runs on Node 20, where it is tested.
FROM node:22-bookworm-slim

# git for the chart mirrors; python3/make/g++ only long enough to compile sqlite3's native module.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && apt-get purge -y python3 make g++ && apt-get autoremove -y
COPY bin ./bin
COPY src ./src
COPY adapters ./adapters
COPY config ./config

# A user of its own; state (sqlite store, git mirrors) under the /data volume.
RUN useradd --create-home --uid 10001 binderbot \
 && mkdir -p /data && chown binderbot /data
USER binderbot
ENV NODE_ENV=production \
    BINDERBOT_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["node", "/app/bin/binderbot.js"]
CMD ["run"]
