#!/usr/bin/env bash
# The whole check: set-up, generated-code freshness (a test), types, lint, the unit suite, then the
# chaos suite (trainings killed mid-checkpoint by strace, then resumed), then the packaging test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
npx tsc -p tsconfig.json --noEmit
npx biome check src test bench scripts examples
# Node 20 has no glob support in --test, so the files are listed here.
mapfile -t files < <(find test -name '*.test.ts' -not -path 'test/chaos/*' -not -path 'test/package/*' | sort)
echo "test: unit suite"
node --import tsx --test --test-concurrency=2 "${files[@]}"
mapfile -t chaos < <(find test/chaos -name '*.test.ts' | sort)
echo "test: chaos suite (kill injection)"
node --import tsx --test "${chaos[@]}"
echo "test: packaging (npm pack, installed into an empty project)"
node --import tsx --test test/package/*.test.ts
