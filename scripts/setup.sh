#!/usr/bin/env bash
# Installs what the tests and the demo need on a fresh Debian machine; does nothing already done.
#  - Debian packages: chromium (headless browser tests; its SwiftShader is also the software Vulkan
#    driver Dawn uses in Node when there is no GPU), libvulkan1 (the Vulkan loader Dawn needs), and
#    Mesa 25's lavapipe (mesa-vulkan-drivers, from bookworm-backports on Debian 12, whose own Mesa 22
#    Dawn rejects): the software driver with shader-f16, which the half-precision tests run on.
#  - npm packages: `npm ci` when node_modules is missing or older than package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 ' || need+=(libvulkan1)
mesa_major=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | cut -d. -f1)
[ "${mesa_major:-0}" -ge 25 ] 2>/dev/null || need+=(mesa-vulkan-drivers)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]} (apt-get)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  from=()
  if [[ " ${need[*]} " == *" mesa-vulkan-drivers "* ]] && grep -q '^VERSION_CODENAME=bookworm$' /etc/os-release; then
    echo 'deb http://deb.debian.org/debian bookworm-backports main' | $sudo tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
    from=(-t bookworm-backports)
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${from[@]}" "${need[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  # Puppeteer drives Debian's Chromium; its own browser download cannot work offline.
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
