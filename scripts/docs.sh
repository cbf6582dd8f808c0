#!/usr/bin/env bash
# npm run docs: the API reference, generated from the doc comments into docs/api/ (a static site).
# It fails on a broken {@link} and on any export of torch, nn or optim without a doc comment.
# TypeDoc needs TypeScript's compiler API, which TypeScript 7 (the project's compiler) lacks, so it
# runs from tools/apidocs/ with the TypeScript 6 it supports.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=tools/apidocs
if [[ ! -d $tools/node_modules || $tools/package-lock.json -nt $tools/node_modules/.package-lock.json ]]; then
  npm ci --prefix "$tools" --no-audit --no-fund --loglevel=error
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
(cd "$tools" && NO_COLOR=1 ./node_modules/.bin/typedoc --options typedoc.json) >"$log" 2>&1 || {
  cat "$log"
  exit 1
}
# TypeDoc checks every export; the core namespaces must be complete, the families are on their way.
bad=$(grep -E '^\[(warning|error)\] ((torch|nn|optim)\..*does not have any documentation|.*(Failed to resolve link|failed to resolve))' "$log" || true)
if [[ -n "$bad" ]]; then
  echo "$bad"
  echo "docs: $(grep -c . <<<"$bad") problems above (undocumented exports of torch, nn or optim, or broken links)" >&2
  exit 1
fi
echo "docs: wrote docs/api/index.html ($(grep -c 'does not have any documentation' "$log" || true) undocumented items outside torch, nn and optim)"
