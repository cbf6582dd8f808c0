#!/usr/bin/env bash
# Runs before `npm pack` / `npm publish`: compiles dist/ afresh and puts the addon in as the prebuild
# for this platform. The addon is the one scripts/setup.sh built against Debian's libtorch, copied
# and stripped, rather than compiled a second time by prebuildify (minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."

rm -rf dist
bash scripts/build.sh

addon=native/build/Release/genlab.node
# Its run path names the libtorch it links: Debian's, not an unpacked one from LIBTORCH.
if [[ ! -f "$addon" ]] || ! readelf -d "$addon" | grep -q 'runpath: \[/usr/lib/'; then
  echo "prepack: no addon built against Debian's libtorch; run: LIBTORCH= bash scripts/setup.sh" >&2
  exit 1
fi
platform="$(node -p 'process.platform + "-" + process.arch')"
rm -rf native/prebuilds
mkdir -p "native/prebuilds/$platform"
# node-gyp-build picks it by these tags: any Node version (N-API), glibc.
strip --strip-debug -o "native/prebuilds/$platform/genlab.napi.glibc.node" "$addon"
