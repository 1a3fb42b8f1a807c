# PeerBridge container image. Every step is scripts/install-production.sh, which CI runs from a fresh
# clone in a clean folder (scripts/ci-install-check.sh): this file only copies and calls it.
# Not built on the project's machines (no container runtime there); see docs/deploy.md.
#   docker build -t peerbridge .
#   docker compose up        (compose.yaml: PostgreSQL 15 + PeerBridge)

# --- build: npm ci and npm run build (TypeScript to dist/, and whatever else `npm run build` makes).
# The full image has python3, make and g++ for a native module whose prebuilt binary will not load (argon2).
FROM node:20-bookworm AS build
WORKDIR /src
COPY . .
RUN scripts/install-production.sh build /src \
 && scripts/install-production.sh install /src /app

# --- runtime: the installed tree only (production dependencies, no sources, no compiler), as a non-root user
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    DATA_DIR=/var/lib/peerbridge/data
COPY --from=build --chown=root:root /app /app
# The app is read-only for the user that runs it; only /var/lib/peerbridge (PGlite's DATA_DIR, keys) is writable.
RUN mkdir -p /var/lib/peerbridge && chown node:node /var/lib/peerbridge
USER node
WORKDIR /var/lib/peerbridge
VOLUME ["/var/lib/peerbridge"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "require('http').get('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
# Migrations also run at start (under an advisory lock); `docker compose run --rm peerbridge migrate` runs them alone.
ENTRYPOINT ["/app/scripts/install-production.sh"]
CMD ["start"]
