#!/usr/bin/env bash
# npm run build: compiles src/ into dist/ (ESM, declarations, source maps), and copies the files
# the code reads from beside itself, which tsc leaves out: the dashboard's page.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.build.json
rm -rf dist/dashboard/page
cp -r src/dashboard/page dist/dashboard/page
