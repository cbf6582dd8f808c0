#!/usr/bin/env bash
# The quickstart: installs what is missing, then trains a variational diffusion model on the embedded
# 8×8 digits (about two minutes on 2 cores) and writes samples, a loss curve and the test bits/dim.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out="${1:-runs/quickstart}"
if [[ -f "$out/checkpoint.safetensors" ]]; then
  echo "quickstart: $out already holds a run; continuing it if unfinished (delete the folder to start over)"
  ./bin/genlab diffusion train --out "$out" --resume
else
  ./bin/genlab diffusion train --out "$out"
fi
echo
echo "Look at: $out/samples.png (samples), $out/loss.svg (training curve), $out/results.json (test bits/dim)"
