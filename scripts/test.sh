#!/usr/bin/env bash
# The test command: set-up, library, benchmark and demo builds (the CLI, package, benchmark and demo
# tests run what was built), then every test —
# CPU reference vs PyTorch, GPU agreement in Node (Dawn) and in headless Chromium (puppeteer), CLI.
# Ends with one summary line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }  # setup says what failed
npm run build --silent >/dev/null || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
npm run build:bench --silent >/dev/null || { echo "benchmark build failed"; echo "0 passed, 1 failed"; exit 1; }
npm run build:demo --silent >/dev/null || { echo "demo build failed"; echo "0 passed, 1 failed"; exit 1; }

results=.vitest-results.json
rm -f "$results"
# Dawn prints two lines on SwiftShader whenever a process enumerates adapters ("Warning:
# maxDynamic{Uniform,Storage}BuffersPerPipelineLayout artificially reduced from 1000000 to 16 ..."): the
# driver's limits are clipped to Dawn's own. They come from native code during requestAdapter, before
# any limit can be requested, and Dawn has no switch for them; dropped here so a real warning stands out.
dawn_noise='^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from [0-9]+ to [0-9]+ to fit dynamic offset allocation limit\.$'
# (stderr goes through the filter, stdout straight to fd 3 = this script's stdout; the pipeline ends
# only when both have, so the summary line below stays last.)
{ npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" 2>&1 1>&3 3>&- | grep -Ev "$dawn_noise" >&2; } 3>&1
status=${PIPESTATUS[0]}
node scripts/test-summary.mjs "$results" "$status"
exit $status
