#!/usr/bin/env bash
# The test command: set-up, library build (the CLI test runs the built command), then every test —
# CPU reference vs PyTorch, GPU agreement in Node (Dawn) and in headless Chromium (puppeteer), CLI.
# Ends with one summary line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }  # setup says what failed
npm run build --silent >/dev/null || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

results=.vitest-results.json
rm -f "$results"
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@"
status=$?
node -e '
  const fs = require("fs");
  const file = process.argv[1];
  if (!fs.existsSync(file)) { console.log("0 passed, 1 failed"); process.exit(0); }
  const r = JSON.parse(fs.readFileSync(file, "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results"
exit $status
