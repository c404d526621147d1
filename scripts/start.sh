#!/usr/bin/env bash
# npm start: install what is missing, build, then run the whole stack on loopback (arc up).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .arc/stack.pid ] && kill -0 "$(cat .arc/stack.pid)" 2>/dev/null; then
  echo "ARC is already running (pid $(cat .arc/stack.pid)); stop it with Ctrl-C in its terminal or 'kill $(cat .arc/stack.pid)'." >&2
  exit 1
fi
bash scripts/setup.sh
npm run --silent build
exec node packages/cli/dist/main.js up "$@"
