#!/usr/bin/env bash
# Installs what ARC needs to build, test and run, when missing: system packages, livekit-server, the
# NATS CLI, Jaeger, Pulsar standalone (Maven), the Python SDK's venv, npm packages (again whenever package-lock.json changed) and the models. Idempotent and about a
# second when everything is there; `npm start`, `npm test` and CI all begin with it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system.sh
bash scripts/install-livekit.sh
bash scripts/install-natscli.sh
bash scripts/install-jaeger.sh
bash scripts/install-pulsar.sh
bash scripts/install-python-sdk.sh
stamp=node_modules/.arc-lock-sha256
lock=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock" ]; then
  echo "installing npm packages"
  npm ci --no-audit --no-fund
  echo "$lock" > "$stamp"
fi
npm run --silent models:fetch
