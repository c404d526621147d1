# One image for every ARC worker; the service is chosen with the SERVICE build argument
# (brain, tts, voice). Models are fetched at build time: nothing downloads at run time.
FROM node:20-bookworm-slim AS build
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends espeak-ng python3 python3-pip ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /arc
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.base.json ./
COPY packages ./packages
COPY services ./services
COPY models/manifest.json ./models/manifest.json
COPY test ./test
RUN npm ci --no-audit --no-fund && npx tsc -b && npm run models:fetch

FROM node:20-bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends espeak-ng && rm -rf /var/lib/apt/lists/*
WORKDIR /arc
COPY --from=build /arc /arc
ARG SERVICE=brain
ENV SERVICE=${SERVICE} NODE_ENV=production LOG_FORMAT=json
CMD ["sh", "-c", "exec node services/${SERVICE}/dist/main.js"]
