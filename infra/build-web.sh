#!/usr/bin/env bash
# Build the web app (web/ -> web/dist, served by vpbx at /app/): `npm ci` then `npm run build`.
# Skips the work when nothing changed (hash stamps of the sources and of the lock file), prints the
# gzipped bundle size and fails if it exceeds the budget (300 KB).
set -euo pipefail
cd "$(dirname "$0")/../web"
BUDGET_KB=${VPBX_WEB_BUDGET_KB:-300}

hash_of() { find "$@" -type f 2>/dev/null | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16; }
lock_hash=$(hash_of package.json package-lock.json)
src_hash=$(hash_of package.json package-lock.json index.html vite.config.ts tsconfig.json src)

if [ ! -d node_modules ] || [ "$(cat node_modules/.vpbx-lock-stamp 2>/dev/null)" != "$lock_hash" ]; then
  echo "web: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.vpbx-lock-stamp
fi

if [ -f dist/index.html ] && [ "$(cat dist/.build-stamp 2>/dev/null)" = "$src_hash" ]; then
  echo "web: up to date (sources unchanged)"
else
  echo "web: npm run build"
  npm run build --silent
  echo "$src_hash" > dist/.build-stamp
fi

total=0
for f in dist/index.html dist/assets/*; do
  size=$(gzip -9 -c "$f" | wc -c)
  total=$((total + size))
done
kb=$(( (total + 1023) / 1024 ))
echo "web: bundle size ${kb} KB gzipped (budget ${BUDGET_KB} KB)"
if [ "$kb" -gt "$BUDGET_KB" ]; then
  echo "web: the bundle is over budget" >&2
  exit 1
fi
