#!/usr/bin/env bash
# Installs what genlab needs and builds the native addon. Idempotent; quiet when all is in place.
#   bash scripts/setup.sh          libtorch, OpenBLAS, tcmalloc, Fashion-MNIST, npm packages, the addon
#   bash scripts/setup.sh --test   also the peers that tests and benchmarks compare against: Debian's
#                                  python3-torch (with numpy, scipy, statsmodels and ase), R's MatchIt,
#                                  LAMMPS, headless chromium for the dashboard, cwebp/cjxl for the codec
#                                  table; and strace, which the chaos suite uses to kill runs mid-checkpoint
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libtorch-dev libgloo-dev libopenblas0-pthread libtcmalloc-minimal4 dataset-fashion-mnist)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(python3-torch python3-numpy python3-scipy python3-statsmodels python3-ase r-cran-matchit lammps chromium
    webp libjxl-tools strace)
fi
if [[ -n "${LIBTORCH:-}" ]]; then packages=("${packages[@]/libtorch-dev}"); fi

missing=()
for p in "${packages[@]}"; do
  [[ -z "$p" ]] && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]} with apt"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages: reinstall when the lock file changed since the last install.
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The addon: rebuild when a native source, the build file or LIBTORCH changed.
addon=native/build/Release/genlab.node
stamp=native/build/.libtorch
want="${LIBTORCH:-debian}"
if [[ ! -f "$addon" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]] || [[ -n "$(find native/src native/binding.gyp native/torch-paths.cjs -newer "$addon" 2>/dev/null)" ]]; then
  echo "setup: building the native addon against ${want} libtorch"
  (cd native && npx node-gyp rebuild -j 2 --loglevel=error >/dev/null)
  echo "$want" >"$stamp"
fi

# dist/: the compiled package. In a checkout, imports of 'genlab' (the README's examples, say)
# resolves to it, as it would from node_modules; the genlab command itself runs the sources, except
# under the test script (GENLAB_CLI_DIST=1).
if [[ ! -f dist/index.js || -n "$(find src tsconfig.json tsconfig.build.json -newer dist/index.js -print -quit)" ]]; then
  echo "setup: compiling dist/"
  bash scripts/build.sh
  touch dist/index.js
fi
