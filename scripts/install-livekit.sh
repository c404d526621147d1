#!/usr/bin/env bash
# Builds livekit-server from the Go module proxy into .tools/bin (git-ignored), once.
# `go install …@version` refuses modules whose go.mod has replace directives (livekit-server's
# does), so the module source is downloaded and built in a scratch copy instead.
# v1.13.5 is the newest release whose dependencies are all on the Go module proxy here;
# v1.13.6 to v1.13.11 pin livekit/protocol pseudo-versions the proxy does not serve.
set -euo pipefail
VERSION="${LIVEKIT_VERSION:-v1.13.5}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$ROOT/.tools/bin/livekit-server"
if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "${VERSION#v}"; then
  echo "livekit-server ${VERSION}: present at $BIN"
  exit 0
fi
command -v go >/dev/null || { echo "Go is required to build livekit-server (https://go.dev/dl)" >&2; exit 1; }
echo "building livekit-server ${VERSION} (first time only, a few minutes)"
dir="$(go mod download -json "github.com/livekit/livekit-server@${VERSION}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cp -r "$dir/." "$scratch/"
chmod -R u+w "$scratch"
mkdir -p "$(dirname "$BIN")"
(cd "$scratch" && CGO_ENABLED=0 go build -trimpath -o "$BIN" ./cmd/server)
echo "livekit-server $("$BIN" --version) built at $BIN"
