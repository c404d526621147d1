#!/usr/bin/env bash
# Builds Jaeger (all-in-one: OTLP receiver, storage in memory, query API and UI) from the Go module
# proxy into .tools/bin/jaeger (git-ignored), once. The tracing test and `npm start -- --tracing`
# run it. `go install …@version` refuses modules with replace directives, so it is built as a
# tool of a scratch module.
set -euo pipefail
VERSION="${JAEGER_VERSION:-v1.76.0}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$ROOT/.tools/bin/jaeger"
STAMP="$BIN.version"
if [ -x "$BIN" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$VERSION" ]; then
  echo "jaeger ${VERSION}: present at $BIN"
  exit 0
fi
command -v go >/dev/null || { echo "Go is required to build jaeger (https://go.dev/dl)" >&2; exit 1; }
echo "building jaeger ${VERSION} (first time only, a few minutes)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$(dirname "$BIN")"
(
  cd "$scratch"
  go mod init arc.local/jaeger-build >/dev/null 2>&1
  go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@${VERSION}" >/dev/null
  CGO_ENABLED=0 go build -trimpath -o "$BIN" github.com/jaegertracing/jaeger/cmd/jaeger
)
echo "$VERSION" > "$STAMP"
echo "jaeger ${VERSION} built at $BIN"
