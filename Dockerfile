# syntax=docker/dockerfile:1
# Build stage: install everything, compile TypeScript and the Stash plugin bundle, then drop dev deps.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY workers ./workers
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

# Runtime stage: only what runs. One image, every role; the command picks the role.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The HTTP hook's spool (HOOK_SPOOL_DIR): writable by the runtime user; docker-compose mounts a volume here.
RUN mkdir -p /app/data/hook-spool && chown -R node:node /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["node", "dist/workers/healthcheck.js", "stash2plex"]
CMD ["node", "dist/workers/all-in-one.js"]
