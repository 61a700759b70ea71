FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/response-cache/package.json ./libs/response-cache/
# --ignore-scripts: the sources are not copied yet, so the prepare script (the build) runs below.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# node_modules/nestjs-response-cache links to the workspace package: its manifest, build and bin.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/libs/response-cache/package.json ./libs/response-cache/
COPY --from=build /app/libs/response-cache/dist ./libs/response-cache/dist
COPY --from=build /app/libs/response-cache/bin ./libs/response-cache/bin
COPY --from=build /app/dist ./dist
COPY package.json ./
EXPOSE 3000
USER node
CMD ["node", "dist/apps/demo/src/main.js"]
