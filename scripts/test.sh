#!/usr/bin/env bash
# The whole check: set-up, generated-code freshness (a test), types, lint, the unit suite, then the
# chaos suite (trainings killed mid-checkpoint by strace, then resumed), then the packaging test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
# Set-up has just rebuilt dist/ from src/, so the command-line runs of the tests use the compiled code.
export GENLAB_CLI_DIST=1
stage() { echo "test: $1 (${SECONDS} s since the start)"; }
stage "types and lint"
npx tsc -p tsconfig.json --noEmit
npx biome check src test bench scripts examples
# Node 20 has no glob support in --test, so the files are listed here.
mapfile -t files < <(find test -name '*.test.ts' -not -path 'test/chaos/*' -not -path 'test/package/*' | sort)
stage "unit suite"
node --import tsx --test --test-concurrency=2 "${files[@]}"
mapfile -t chaos < <(find test/chaos -name '*.test.ts' | sort)
stage "chaos suite (kill injection)"
node --import tsx --test "${chaos[@]}"
stage "packaging (npm pack, installed into an empty project)"
node --import tsx --test test/package/*.test.ts
stage "done"
