#!/usr/bin/env bash
# Apache Pulsar 4.2.4 standalone for the Pulsar sink's test (and for trying the sink locally): the
# broker's jars and their dependencies from Maven Central into .tools/pulsar/lib (git-ignored),
# once. There is no Pulsar distribution to download here, so Maven assembles the classpath, with
# versions pinned by Pulsar's parent POM (scripts/pulsar/pom.xml). Needs Java 17+ and Maven.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="$(sed -n 's:.*<pulsar.version>\(.*\)</pulsar.version>.*:\1:p' "$ROOT/scripts/pulsar/pom.xml")"
LIB="$ROOT/.tools/pulsar/lib"
STAMP="$ROOT/.tools/pulsar/version"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$VERSION" ] && ls "$LIB"/pulsar-broker-"$VERSION".jar >/dev/null 2>&1; then
  echo "pulsar ${VERSION}: present at $LIB"
  exit 0
fi
for tool in java mvn; do
  command -v "$tool" >/dev/null || { echo "$tool is required to assemble Pulsar standalone (apt-get install openjdk-17-jre-headless maven)" >&2; exit 1; }
done
echo "assembling Pulsar ${VERSION} standalone from Maven Central (first time only, about 240 MB)"
rm -rf "$LIB"
mkdir -p "$LIB"
mvn -q -B -f "$ROOT/scripts/pulsar/pom.xml" dependency:copy-dependencies -DoutputDirectory="$LIB" -DincludeScope=runtime
echo "$VERSION" > "$STAMP"
echo "pulsar ${VERSION}: $(ls "$LIB" | wc -l) jars at $LIB"
