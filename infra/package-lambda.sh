#!/usr/bin/env bash
# Build the Lambda deployment package and the merged SAM template (no AWS call is made):
#   bash infra/package-lambda.sh [OUT_DIR]      -> OUT_DIR/sam.yaml + OUT_DIR/deployment.zip
# The app lives in functions/, but it imports domain/ and media_core.blobstore from the repo root,
# and serves web/dist: those go into vendor/ (Chalice puts vendor/* at the package root).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$(realpath -m "${1:-$ROOT/var/build/lambda}")"
CHALICE="${CHALICE:-$ROOT/.venv/bin/chalice}"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT

cp -r "$ROOT/functions" "$STAGE/app"
rm -rf "$STAGE/app/vendor" && mkdir -p "$STAGE/app/vendor"
cp -r "$ROOT/domain" "$ROOT/media_core" "$STAGE/app/vendor/"
if [ -d "$ROOT/web/dist" ]; then cp -r "$ROOT/web/dist" "$STAGE/app/vendor/web-dist"; fi
find "$STAGE/app" -name __pycache__ -prune -exec rm -rf {} +
cp "$ROOT/infra/lambda-requirements.txt" "$STAGE/app/requirements.txt"

rm -rf "$OUT"
(cd "$STAGE/app" && "$CHALICE" package --stage prod --merge-template "$ROOT/infra/template.yaml" "$OUT")
echo "packaged: $OUT/sam.yaml and $OUT/deployment.zip"
