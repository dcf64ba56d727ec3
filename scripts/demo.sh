#!/usr/bin/env bash
# The demo command: set-up, then the demo page on Vite's dev server (http://127.0.0.1:5173/demo/).
# Open it in a browser with WebGPU (Chrome, Edge; or Chromium with --enable-unsafe-webgpu).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec npx vite --host 127.0.0.1 --port "${PORT:-5173}" "$@"
