#!/usr/bin/env bash
# Builds a component image from the repository root:
#   ops/build-image.sh cpu|gpu TAG
# BASE_IMAGE (default python:3.11-slim-bookworm) is the base; where it cannot be pulled (no
# image registry reachable, as on an air-gapped build machine) the Debian base that
# ops/base-image.sh makes with debootstrap is used instead. Dependencies come from the runtime
# lock in their own layer, so a rebuild after a code change reuses them.
set -euo pipefail
cd "$(dirname "$0")/.."

variant="${1:?cpu or gpu}"
tag="${2:?image tag}"
base="${BASE_IMAGE:-python:3.11-slim-bookworm}"
if ! docker image inspect "$base" > /dev/null 2>&1 \
  && ! timeout 120 docker pull -q "$base" > /dev/null 2>&1; then
  echo "cannot pull $base: building a Debian base with debootstrap instead"
  base=kubeslim-base:bookworm
  ops/base-image.sh "$base"
fi
case "$variant" in
  cpu) gpu=0 ;;
  gpu) gpu=1 ;;
  *) echo "build-image.sh: cpu or gpu, not $variant" >&2; exit 2 ;;
esac
start=$(date +%s)
docker build --network host -f ops/Dockerfile --build-arg BASE_IMAGE="$base" \
  --build-arg GPU="$gpu" --label "kubeslim.lock=$(sha256sum requirements-runtime.lock | cut -c1-16)" \
  -t "$tag" .
size=$(docker image inspect -f '{{.Size}}' "$tag")
echo "built $tag from $base in $(( $(date +%s) - start )) s: $(( size / 1000000 )) MB"
