#!/usr/bin/env bash
# Fax test stack: spandsp (independent T.38/T.30/T.4 implementation used as the sending fax
# in tests/fax) plus libtiff headers and a C compiler to build the small sender helper.
# Idempotent: only touches apt when a package is missing.
set -euo pipefail
pkgs=(libspandsp-dev libtiff-dev gcc pkg-config)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
