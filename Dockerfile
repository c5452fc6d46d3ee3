# binderbot: one process, the adapters its config enables.
FROM node:20-bookworm-slim

# git for the chart mirrors; build tools only long enough to compile sqlite3.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && apt-get purge -y python3 make g++ && apt-get autoremove -y
COPY bin ./bin
COPY src ./src
COPY adapters ./adapters
COPY config ./config

RUN useradd --create-home --uid 10001 binderbot \
 && mkdir -p /data && chown binderbot /data
USER binderbot
ENV NODE_ENV=production \
    BINDERBOT_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["node", "/app/bin/binderbot.js"]
CMD ["run"]
