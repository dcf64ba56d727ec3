// The test command's last line, "N passed, N failed[, N skipped]", from Vitest's JSON report and its
// exit status (scripts/test.sh; test/test-summary.test.ts runs it on made-up reports).
//   node scripts/test-summary.mjs results.json status
import { existsSync, readFileSync } from 'node:fs';

const [file, statusText] = process.argv.slice(2);
const status = Number(statusText ?? 0);
if (!existsSync(file)) {
  console.log('0 passed, 1 failed');
  process.exit(0);
}
const r = JSON.parse(readFileSync(file, 'utf8'));
// A file that fails outside its tests (a beforeAll, an import) has no failed test, only skipped ones:
// it counts as one failure, so the line never says 0 failed when the run did not pass.
const brokenFiles = r.testResults.filter((f) => f.status === 'failed' && !f.assertionResults.some((t) => t.status === 'failed')).length;
// Vitest exits non-zero on an error outside every test (an unhandled rejection, say) while its report
// counts no failure: that run did not pass either.
const outside = status !== 0 && r.numFailedTests + brokenFiles === 0 ? 1 : 0;
const skipped = r.numPendingTests + r.numTodoTests;
console.log(`${r.numPassedTests} passed, ${r.numFailedTests + brokenFiles + outside} failed${skipped ? `, ${skipped} skipped` : ''}`);
