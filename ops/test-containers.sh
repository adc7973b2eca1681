#!/usr/bin/env bash
# `make test-containers`: the container tier. Installs Docker Engine (and debootstrap, for the
# base image) if missing, starts dockerd if none runs, builds the CPU image, and runs
# tests/containers: the image-classifier and translation pipelines end to end through
# kfp.local's DockerRunner in that image. It stops exactly the dockerd it started.
set -euo pipefail
cd "$(dirname "$0")/.."

image="${KUBESLIM_TEST_IMAGE:-kubeslim:local}"
mkdir -p build
missing=()
command -v dockerd > /dev/null || missing+=(docker.io)
command -v debootstrap > /dev/null || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q > build/apt.log
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >> build/apt.log
fi

started=""
stop_dockerd() {
  if [ -n "$started" ]; then
    echo "stopping the dockerd this run started (pid $started)"
    kill "$started" 2> /dev/null || true
    wait "$started" 2> /dev/null || true
  fi
}
trap stop_dockerd EXIT
if ! docker info > /dev/null 2>&1; then
  echo "starting dockerd (overlay2), log in build/dockerd.log"
  dockerd --storage-driver overlay2 > build/dockerd.log 2>&1 &
  started=$!
  for _ in $(seq 60); do
    docker info > /dev/null 2>&1 && break
    sleep 1
  done
  docker info > /dev/null 2>&1 || { tail -n 20 build/dockerd.log; exit 1; }
fi

ops/build-image.sh cpu "$image"
KUBESLIM_TEST_IMAGE="$image" .venv/bin/python -m pytest -o addopts="--import-mode=importlib -ra" \
  -p no:cacheprovider tests/containers
