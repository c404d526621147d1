#!/usr/bin/env bash
# Installs the system packages ARC needs, when missing: nats-server (NATS), espeak-ng (Piper
# phonemes, test speech), chromium (the playground's browser test), docker-compose (the test that
# checks docker-compose.yml), prometheus (the test that scrapes the workers' /metrics), Java and Maven
# (Pulsar standalone for the Pulsar sink's test), redis-server (LiveKit's multi-node state) and iproute2
# (network namespaces for the cluster test across hosts). Debian/Ubuntu;
# uses sudo when not root.
set -euo pipefail
need=()
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
for extra in "$@"; do
  dpkg -s "$extra" >/dev/null 2>&1 || need+=("$extra")
done
if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing system packages: ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
