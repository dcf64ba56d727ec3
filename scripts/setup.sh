#!/usr/bin/env bash
# Installs what the tests and the demo need on a fresh Debian machine; does nothing already done.
#  - Debian packages: chromium (headless browser tests; its SwiftShader is also the software Vulkan
#    driver Dawn uses in Node when there is no GPU) and libvulkan1 (the Vulkan loader Dawn needs).
#    --no-install-recommends keeps Mesa's old lavapipe out (Dawn rejects Debian 12's version).
#  - npm packages: `npm ci` when node_modules is missing or older than package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 ' || need+=(libvulkan1)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]} (apt-get)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  # Puppeteer drives Debian's Chromium; its own browser download cannot work offline.
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
