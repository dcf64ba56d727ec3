#!/usr/bin/env bash
# The demo command: set-up, then the demo page on Vite's dev server (http://127.0.0.1:5173/demo/; the
# root redirects there). Open it in a browser with WebGPU (Chrome, Edge; or Chromium with
# --enable-unsafe-webgpu); without WebGPU the page runs on the CPU backend and says so.
# Static files to host anywhere: npm run build:demo (→ dist-demo/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
port=${PORT:-5173}
echo "webgpu-rnn demo: http://127.0.0.1:${port}/demo/  (the root, http://127.0.0.1:${port}/, redirects there)"
exec npx vite --host 127.0.0.1 --port "$port" --strictPort "$@"
