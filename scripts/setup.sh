#!/usr/bin/env bash
# Installs what the tests and the demo need on a fresh Debian machine; does nothing already done.
#  - Debian packages: chromium (headless browser tests; its SwiftShader is also the software Vulkan
#    driver Dawn uses in Node when there is no GPU), libvulkan1 (the Vulkan loader Dawn needs), and
#    Mesa 25's lavapipe (mesa-vulkan-drivers, from bookworm-backports on Debian 12, whose own Mesa 22
#    Dawn rejects): the software driver with shader-f16, which the half-precision tests run on.
#  - npm packages: `npm ci` when node_modules is missing or older than package-lock.json.
#
# Every way it can fail ends with one line "setup: <what failed>; <what to run by hand>" on stderr
# and a non-zero exit — never a silent exit. test/setup-script.test.ts runs it with the system
# commands stubbed. Overridable for that test only: SETUP_OS_RELEASE (default /etc/os-release) and
# SETUP_APT_SOURCES_DIR (default /etc/apt/sources.list.d).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

os_release=${SETUP_OS_RELEASE:-/etc/os-release}
apt_sources=${SETUP_APT_SOURCES_DIR:-/etc/apt/sources.list.d}

fail() {
  echo "setup: $*" >&2
  exit 1
}

# The installed version of a Debian package, or nothing (not installed, or no dpkg at all).
installed_version() {
  local status
  status=$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$1" 2>/dev/null) || return 0
  [[ $status == installed\ * ]] && echo "${status#installed }"
}

need=()
[ -n "$(installed_version chromium)" ] || need+=(chromium)
# The loader may come from somewhere other than Debian's package; the library is what Dawn needs.
{ ldconfig -p 2>/dev/null || true; } | grep -q 'libvulkan\.so\.1 ' || need+=(libvulkan1)
mesa=$(installed_version mesa-vulkan-drivers)
mesa_major=${mesa%%.*}
# Debian versions may carry an epoch ("1:25.0.7-2"); the major version follows it.
mesa_major=${mesa_major##*:}
[[ $mesa_major =~ ^[0-9]+$ ]] && [ "$mesa_major" -ge 25 ] || need+=(mesa-vulkan-drivers)

if [ ${#need[@]} -gt 0 ]; then
  by_hand="apt-get install ${need[*]}"
  command -v apt-get >/dev/null || fail "apt-get not found (not Debian?); install ${need[*]} (Mesa ≥ 25) with this system's package manager"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || fail "installing ${need[*]} needs root and sudo is not installed; run as root: $by_hand"
    sudo=(sudo)
    # Ask for the password now (or fail at once when there is no terminal to ask on) rather than mid-install.
    "${sudo[@]}" -v || fail "sudo was refused; run as root: $by_hand"
  fi
  echo "setup: installing ${need[*]} (apt-get)"
  from=()
  if [[ " ${need[*]} " == *" mesa-vulkan-drivers "* ]] && grep -q '^VERSION_CODENAME=bookworm$' "$os_release" 2>/dev/null; then
    # Debian 12's own Mesa is 22; Mesa 25 comes from bookworm-backports.
    backports="deb http://deb.debian.org/debian bookworm-backports main"
    echo "$backports" | "${sudo[@]}" tee "$apt_sources/bookworm-backports.list" >/dev/null \
      || fail "could not add bookworm-backports to $apt_sources; add the line \"$backports\" by hand, then: $by_hand -t bookworm-backports"
    from=(-t bookworm-backports)
    by_hand="$by_hand ${from[*]}"
  fi
  "${sudo[@]}" apt-get update -qq \
    || fail "apt-get update failed (no network, or a broken apt source?); fix it, then run: apt-get update && $by_hand"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${from[@]}" "${need[@]}" >/dev/null \
    || fail "apt-get install ${need[*]} failed (see apt's message above); run by hand: $by_hand"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  command -v npm >/dev/null || fail "npm not found; install Node.js 20 or later (with npm), then run: npm ci"
  echo "setup: npm ci"
  # Puppeteer drives Debian's Chromium; its own browser download cannot work offline.
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund \
    || fail "npm ci failed (no network, or no access to the npm registry?); run by hand: PUPPETEER_SKIP_DOWNLOAD=1 npm ci"
fi
