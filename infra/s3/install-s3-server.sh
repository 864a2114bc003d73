#!/usr/bin/env bash
# Puts S3Proxy (an S3-compatible server) under .cache/s3proxy/ for the S3 image store's tests
# (test/support/s3-server.ts starts it). S3Proxy rather than MinIO, SeaweedFS or versitygw: Maven
# Central ships it as one runnable jar (no Go build: it downloads in about a second), it runs on
# the Java 17 CI already has, it checks AWS SigV4 signatures (headers and presigned query strings),
# and its filesystem backend keeps the bytes on disk, so the tests see a real store, not a mock.
# Idempotent: a jar already in place whose checksum holds is kept.
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION=4.1.0
SHA1=0a0b89e982bc1b1b5757d45b61109e05a840dd87
URL="https://repo1.maven.org/maven2/org/gaul/s3proxy/${VERSION}/s3proxy-${VERSION}-jar-with-dependencies.jar"
DIR=.cache/s3proxy
JAR="${DIR}/s3proxy-${VERSION}.jar"

if [ -f "$JAR" ] && echo "${SHA1}  ${JAR}" | sha1sum --check --status; then
  echo "$JAR"
  exit 0
fi

mkdir -p "$DIR"
curl --fail --silent --show-error --location --retry 3 -o "${JAR}.tmp" "$URL"
echo "${SHA1}  ${JAR}.tmp" | sha1sum --check --status || {
  echo "s3proxy ${VERSION}: checksum mismatch for ${URL}" >&2
  rm -f "${JAR}.tmp"
  exit 1
}
mv "${JAR}.tmp" "$JAR"
echo "$JAR"
