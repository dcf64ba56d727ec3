// The library's module graph has no import cycles (a cycle makes initialisation order matter and
// hides which module owns what). The graph is read from the sources: every relative import and
// re-export of a file under src/, type-only ones included (they are cycles of meaning, if not of
// evaluation). Reports each cycle found as a path of files.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Relative imports of a file, resolved to .ts paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
  return specifiers.filter((s) => !s.includes('?')).map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

/** Every elementary cycle reachable by depth-first search (each reported once, from its smallest file). */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const visit = (node: string, path: string[]) => {
    for (const next of graph.get(node) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) {
        const cycle = path.slice(at);
        const start = cycle.indexOf([...cycle].sort()[0]);
        const canonical = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(canonical.join('>'), canonical);
      } else if (path.length < 40) {
        visit(next, [...path, next]);
      }
    }
  };
  for (const node of graph.keys()) visit(node, [node]);
  return [...cycles.values()];
}

describe('module graph of src/', () => {
  const files = sources(SRC);
  const graph = new Map(files.map((f) => [f, importsOf(f).filter((i) => files.includes(i))]));

  it('is read from the sources (sanity: the entry imports something)', () => {
    expect(files.length).toBeGreaterThan(20);
    expect(graph.get(join(SRC, 'index.ts'))!.length).toBeGreaterThan(3);
  });

  it('has no import cycles', () => {
    const cycles = findCycles(graph).map((c) => [...c, c[0]].map((f) => relative(SRC, f)).join(' → '));
    expect(cycles).toEqual([]);
  });

  // The layers' direction: the float64 reference and the GPU engine are what training is built from,
  // never the other way round (an op's CPU counterpart may use the reference; nothing there uses train/).
  it.each([
    ['reference', ['train', 'gpu', 'backends', 'onnx', 'bench']],
    ['gpu', ['train', 'backends', 'onnx', 'bench']],
  ])('src/%s/ imports nothing from %j', (dir, forbidden) => {
    const offending = [...graph.entries()].flatMap(([file, deps]) =>
      relative(SRC, file).startsWith(`${dir}/`)
        ? deps.filter((d) => forbidden.some((f) => relative(SRC, d).startsWith(`${f}/`))).map((d) => `${relative(SRC, file)} → ${relative(SRC, d)}`)
        : [],
    );
    expect(offending).toEqual([]);
  });

  it('the cycle finder finds a planted cycle', () => {
    expect(
      findCycles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
          ['d', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b', 'c']]);
  });
});
