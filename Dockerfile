# One image, every role: `qianshao api|worker|crawler|all`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# nodejieba compiles from source (no reachable prebuilt binary).
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:all && npm prune --omit=dev
# The segmenter's dictionary arrays, built once here instead of at every worker start (~2 s CPU).
RUN node -e "import('./dist/core/segment/jieba-dictionary.js').then((m) => m.loadJiebaDictionary())"

FROM node:20-bookworm-slim
ENV NODE_ENV=production API_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json ./package.json
COPY config ./config
COPY --from=build --chown=node:node /app/.data ./.data
USER node
EXPOSE 8600
ENTRYPOINT ["node", "dist/bin/qianshao.js"]
CMD ["all"]
