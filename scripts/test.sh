#!/usr/bin/env bash
# The whole check: set-up, generated-code freshness (a test), types, lint, and the unit suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
npx tsc -p tsconfig.json --noEmit
npx biome check src test bench scripts
# Node 20 has no glob support in --test, so the files are listed here.
mapfile -t files < <(find test -name '*.test.ts' | sort)
node --import tsx --test --test-concurrency=2 "${files[@]}"
