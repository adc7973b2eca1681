#!/usr/bin/env bash
# Builds the images' base where no image registry can be reached: a Debian bookworm root
# (Python 3.11, the lock's version) made with debootstrap from the Debian mirror apt already
# uses, imported into Docker. It trusts this machine's CA certificates, so pip inside
# `docker build --network host` reaches the package index as the machine does.
#
#   ops/base-image.sh [NAME]       (default kubeslim-base:bookworm; a no-op if it exists)
#
# Needs root, debootstrap and a running Docker engine (`make test-containers` sees to both).
set -euo pipefail

name="${1:-kubeslim-base:bookworm}"
if docker image inspect "$name" > /dev/null 2>&1; then
  echo "base image $name exists"
  exit 0
fi

# The mirror apt is configured with (deb822 sources first, then sources.list).
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2> /dev/null \
  | grep -v security | head -n 1 || true)
if [ -z "$mirror" ]; then
  mirror=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2> /dev/null || true)
fi
mirror="${mirror:-http://deb.debian.org/debian}"

root=$(mktemp -d /var/tmp/kubeslim-base.XXXXXX)
trap 'rm -rf "$root" "$root.log"' EXIT
echo "debootstrap bookworm from $mirror into $root (a few minutes)"
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
  bookworm "$root" "$mirror" > "$root.log" 2>&1 || { tail -n 20 "$root.log"; exit 1; }
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import \
  --change 'ENV LANG=C.UTF-8 PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["python3"]' \
  - "$name"
echo "base image $name built"
