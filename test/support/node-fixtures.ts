/** Node's way to the fixture files. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { LoadBytes } from './fixtures.js';

const dir = fileURLToPath(new URL('../fixtures/', import.meta.url));

export const loadNodeBytes: LoadBytes = async (path) => new Uint8Array(await readFile(dir + path));
