#!/usr/bin/env node
// THIRD-PARTY-NOTICES.md from what the library build (dist/) bundles: every npm package whose sources
// appear in dist/*.js.map, with its version, licence and LICENSE file — the notices their licences ask
// redistributions to carry. `--check` exits 1 when the committed file differs (the suite runs it).
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'THIRD-PARTY-NOTICES.md');

/** node_modules/<package dir> of each bundled source, e.g. node_modules/protobufjs/node_modules/long. */
const packageDirs = new Set();
for (const file of readdirSync(join(root, 'dist')).filter((f) => f.endsWith('.js.map'))) {
  for (const source of JSON.parse(readFileSync(join(root, 'dist', file), 'utf8')).sources) {
    const m = /^(?:\.\.\/)*((?:node_modules\/(?:@[^/]+\/)?[^/]+\/)+)/.exec(source);
    if (m) packageDirs.add(m[1].replace(/\/$/, ''));
  }
}

const packages = [...packageDirs]
  .map((dir) => {
    const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
    const licenseFile = readdirSync(join(root, dir)).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    if (!licenseFile) throw new Error(`${dir}: no LICENSE file to carry`);
    return {
      name: pkg.name,
      version: pkg.version,
      license: pkg.license,
      text: readFileSync(join(root, dir, licenseFile), 'utf8')
        .replace(/\r\n/g, '\n')
        .trim(),
    };
  })
  .sort((a, b) => a.name.localeCompare(b.name));

// One section per distinct licence text, naming every package it covers.
const byText = new Map();
for (const p of packages) byText.set(p.text, [...(byText.get(p.text) ?? []), p]);
let md = '# Third-party notices\n\nThe built library (`dist/`) bundles these packages; their licences follow.\n';
for (const [text, list] of byText) {
  md += `\n## ${list.map((p) => `${p.name} ${p.version}`).join(', ')} (${list[0].license})\n\n\`\`\`\n${text}\n\`\`\`\n`;
}

if (process.argv.includes('--check')) {
  const committed = existsSync(out) ? readFileSync(out, 'utf8') : '';
  if (committed !== md) {
    console.error('THIRD-PARTY-NOTICES.md is out of date with what dist/ bundles: run node scripts/third-party-notices.mjs');
    process.exit(1);
  }
  console.log(`THIRD-PARTY-NOTICES.md covers the ${packages.length} bundled packages`);
} else {
  writeFileSync(out, md);
  console.log(`wrote THIRD-PARTY-NOTICES.md: ${packages.length} packages`);
}
