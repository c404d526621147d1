#!/usr/bin/env bash
# Builds the NATS CLI (`nats`, github.com/nats-io/natscli) from the Go module proxy into
# .tools/bin (git-ignored), once. scripts/messaging/test-nats.sh uses it.
# v0.5.0: v0.5.1 does not build with the dependencies the Go module proxy serves here.
set -euo pipefail
VERSION="${NATSCLI_VERSION:-v0.5.0}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN_DIR="$ROOT/.tools/bin"
BIN="$BIN_DIR/nats"
if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -qx "v\?${VERSION#v}"; then
  echo "nats CLI ${VERSION}: present at $BIN"
  exit 0
fi
command -v go >/dev/null || { echo "Go is required to build the NATS CLI (https://go.dev/dl)" >&2; exit 1; }
echo "building nats CLI ${VERSION} (first time only, a few minutes)"
mkdir -p "$BIN_DIR"
# Build into a scratch GOBIN and move the binary in place at the end: an interrupted build never
# leaves a half-written .tools/bin/nats behind.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
CGO_ENABLED=0 GOBIN="$scratch" go install -trimpath -ldflags "-s -w -X main.version=${VERSION#v}" "github.com/nats-io/natscli/nats@${VERSION}"
mv -f "$scratch/nats" "$BIN"
echo "nats CLI $("$BIN" --version) built at $BIN"
