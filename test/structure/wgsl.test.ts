// What the TypeScript side and the WGSL side must agree on, read from the shader files themselves:
//  - every weight and lane header defines what src/gpu/wgsl.ts's header contract lists;
//  - constants copied between the two (rows per GEMM invocation, the persistent kernel's workgroup
//    memory and cache size, the mode codes) have the same values;
//  - the hand-unrolled blocks (the persistent kernels' cached_dot / cached_back_dot quads, the row blocks of the GEMM,
//    the persistent and the step kernel) follow their pattern line by line, so an unrolled line
//    with a wrong index cannot hide among correct ones.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BLOCKED4_INPUT_QUADS, BLOCKED_BACKWARD_MAX_VEC4, PERSISTENT_BACKWARD_CACHE_MAX_H } from '../../src/gpu/ops/backward.js';
import { GEMM_ROWS, GEMM_WIDE_MAX_ROWS } from '../../src/gpu/ops/gemm.js';
import { PERSISTENT_CACHE_MAX_K, PERSISTENT_SHARED_FLOATS } from '../../src/gpu/ops/persistent.js';
import { MODE_CODE } from '../../src/gpu/wgsl.js';
import { HEADER_CONTRACT } from '../../src/gpu/wgsl.js';

const shader = (file: string) => readFileSync(new URL(`../../shaders/${file}`, import.meta.url), 'utf8');
/** The value of `const NAME = 123u;` in a shader. */
const constant = (file: string, name: string) => Number(new RegExp(`const ${name}\\s*=\\s*(\\d+)u?;`).exec(shader(file))?.[1]);
/** The default of `override NAME: u32 = 123u;` in a shader. */
const overrideDefault = (file: string, name: string) => Number(new RegExp(`override ${name}: u32 = (\\d+)u;`).exec(shader(file))?.[1]);

describe('WGSL headers', () => {
  it.each(['weights-f32.wgsl', 'weights-f16.wgsl', 'weights-f16-packed.wgsl'])('%s defines the weight header contract', (file) => {
    for (const name of HEADER_CONTRACT.weights) expect(shader(file)).toContain(name);
  });
  it.each(['lanes-plain.wgsl', 'lanes-subgroups.wgsl'])('%s defines the lane header contract', (file) => {
    for (const name of HEADER_CONTRACT.lanes) expect(shader(file)).toContain(name);
  });
});

describe('constants shared by TypeScript and WGSL', () => {
  it('agree', () => {
    expect(constant('gemm.wgsl', 'ROWS')).toBe(GEMM_ROWS);
    expect(constant('recurrent-persistent.wgsl', 'CACHE_MAX_K')).toBe(PERSISTENT_CACHE_MAX_K);
    // Workgroup arrays sized per shape by the host: their defaults are the most the host allows.
    expect(overrideDefault('recurrent-persistent.wgsl', 'SHARED_FLOATS')).toBe(PERSISTENT_SHARED_FLOATS);
    expect(overrideDefault('recurrent-backward.wgsl', 'BLOCKED_VEC4')).toBe(BLOCKED_BACKWARD_MAX_VEC4);
    expect(overrideDefault('recurrent-backward.wgsl', 'INPUT_QUADS')).toBe(BLOCKED4_INPUT_QUADS);
    for (const [mode, code] of Object.entries(MODE_CODE)) expect(constant('prelude.wgsl', `MODE_${mode}`)).toBe(code);
  });
});

/** Lines of `file` matching `pattern`, with their captured numbers. */
function unrolled(file: string, pattern: RegExp): number[][] {
  return shader(file)
    .split('\n')
    .flatMap((line) => {
      const m = pattern.exec(line);
      return m ? [m.slice(1).map(Number)] : [];
    });
}

describe('hand-unrolled blocks follow their pattern', () => {
  it('cached_dot: line q is `if (CACHE_K >= 4(q+1)) { a += w_quads[q] * h_quad(h + 4q, lane); }`, for every quad of the cache', () => {
    const lines = unrolled('recurrent-persistent.wgsl', /^\s*if \(CACHE_K >= (\d+)u\) \{ a \+= w_quads\[(\d+)\] \* h_quad\(h(?: \+ (\d+)u)?, lane\); \}$/);
    expect(lines).toEqual(Array.from({ length: PERSISTENT_CACHE_MAX_K / 4 }, (_, q) => [4 * (q + 1), q, q === 0 ? Number.NaN : 4 * q]));
  });

  it('cached_back_dot: with subgroups line m is `if (CACHE_H > 4m) { acc = back_units(w_rows[m], dgs[min(base + 4m + q, last)], acc); }`, without `if (CACHE_H >= 4(m+1)) { a = back_quad(w_rows[m], base + 4m, a); }`, for every quad of the cache', () => {
    const quads = PERSISTENT_BACKWARD_CACHE_MAX_H / 4;
    const split = unrolled(
      'recurrent-backward.wgsl',
      /^\s*if \(CACHE_H > (\d+)u\) \{ acc = back_units\(w_rows\[(\d+)\], dgs\[min\(base(?: \+ (\d+)u)? \+ q, last\)\], acc\); \}$/,
    );
    expect(split).toEqual(Array.from({ length: quads }, (_, m) => [4 * m, m, m === 0 ? Number.NaN : 4 * m]));
    const own = unrolled('recurrent-backward.wgsl', /^\s*if \(CACHE_H >= (\d+)u\) \{ a = back_quad\(w_rows\[(\d+)\], base(?: \+ (\d+)u)?, a\); \}$/);
    expect(own).toEqual(Array.from({ length: quads }, (_, m) => [4 * (m + 1), m, m === 0 ? Number.NaN : 4 * m]));
    expect(constant('recurrent-backward.wgsl', 'CACHE_MAX_H')).toBe(PERSISTENT_BACKWARD_CACHE_MAX_H);
  });

  it('persistent kernel: row r reads h and length r, accumulates into acc r, updates row r', () => {
    expect(unrolled('recurrent-persistent.wgsl', /^\s*let len(\d) = lengths\[b0 \+ min\((\d)u, rows - 1u\)\];$/)).toEqual(
      [1, 2, 3, 4, 5, 6, 7].map((r) => [r, r]),
    );
    expect(unrolled('recurrent-persistent.wgsl', /^\s*let h(\d) = cur \+ min\((\d)u, rows - 1u\) \* K;$/)).toEqual([1, 2, 3, 4, 5, 6, 7].map((r) => [r, r]));
    expect(unrolled('recurrent-persistent.wgsl', /acc(\d) = units_fma4\(wa, wb, h_quad\(h(\d) \+ k, lane\), acc(\d)\);/)).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((r) => [r, r, r]),
    );
    expect(unrolled('recurrent-persistent.wgsl', /acc(\d) = units_fma\(wa, wb, shared_f\[h(\d) \+ k\], acc(\d)\);/)).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((r) => [r, r, r]),
    );
    expect(
      unrolled(
        'recurrent-persistent.wgsl',
        /^\s*if \(BLOCK_B > (\d)u && rows > (\d)u\) \{ update_unit\(d, t, (\d)u, b0 \+ (\d)u, ju, select\(acc(\d)\.a, acc(\d)\.b, pick\), t < len(\d), cur, nxt\); \}$/,
      ),
    ).toEqual([1, 2, 3, 4, 5, 6, 7].map((r) => [r, r, r, r, r, r, r]));
  });

  it('GEMM: row r of the tile is row m0 + r, stored r rows down', () => {
    // One k (a_column8 without subgroups, then one_k): rows m … m + 7 in order, x[h] component c into row 4h + c.
    const column = [...shader('gemm.wgsl').matchAll(/a_at\(z, m(?: \+ (\d)u)?, k\)/g)].map((m) => Number(m[1] ?? 0));
    expect(column).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const oneK = [...shader('tile.wgsl').matchAll(/fma\(w, vec4<f32>\(x\[(\d)\]\.([xyzw])\), t\.r(\d)\)/g)].map((m) => [
      4 * Number(m[1]) + 'xyzw'.indexOf(m[2]),
      Number(m[3]),
    ]);
    expect(oneK).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((r) => [r, r]));
    // Four k (quad_rows): row r's values x.x<r> into t.r<r>.
    const quadK = [...shader('tile.wgsl').matchAll(/quad_fma\(w, x\.x(\d), t\.r(\d)\)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(quadK).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((r) => [r, r]));
    // store_tile's (gemm_vec4, gemm_wide), then store_tile_rows' (gemm, gemm_wide_rows).
    const stores = [2, 3, 4, 5, 6, 7].map((r) => [r, r, r]);
    expect(unrolled('gemm.wgsl', /^\s*if \(rows > (\d)u\) \{ store_quad\(first \+ (\d)u \* stride, t\.r(\d), bq\); \}$/)).toEqual(stores);
    expect(unrolled('gemm.wgsl', /^\s*if \(rows > (\d)u\) \{ store_row\(first \+ (\d)u \* steps\.x, n0, t\.r(\d), bq, steps\.y\); \}$/)).toEqual(
      [2, 3, 4, 5, 6, 7].map((r) => [r, r, r]),
    );
    // The eight A loads of the plain path (a_rows8, which both tiles use), in order: rows m, m + 1, …, m + 7.
    const wide = [...shader('gemm.wgsl').matchAll(/a4\[\(base \+ min\(m(?: \+ (\d)u)?, M - 1u\) \* K \+ k\) \/ 4u\]/g)].map((m) => Number(m[1] ?? 0));
    expect(wide).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('GEMM wide tile: t<g><q> is rows m0 + 8g × quad q, and stores 8g rows down', () => {
    const groups = Array.from({ length: GEMM_WIDE_MAX_ROWS / GEMM_ROWS }, (_, g) => g);
    const quads = [0, 1, 2, 3];
    const loads = unrolled('gemm.wgsl', /^\s*let a(\d) = a_rows8_any\(lane, z, m0(?: \+ (\d+)u)?, k\);$/);
    expect(loads).toEqual(groups.map((g) => [g, g === 0 ? Number.NaN : 8 * g]));
    const columns = unrolled('gemm.wgsl', /^\s*let x(\d) = a_column8\(lane, z, m0(?: \+ (\d+)u)?, k\);$/);
    expect(columns).toEqual(groups.map((g) => [g, g === 0 ? Number.NaN : 8 * g]));
    // Quad q's B (both loops: four k, then one k) from column n.x, n.y, n.z, n.w in turn.
    const bLoads = (load: string) =>
      shader('gemm.wgsl')
        .split('\n')
        .flatMap((line) => {
          const m = new RegExp(`^\\s*(?:let |)b(\\d) = ${load}\\(z, k, n\\.([xyzw])\\);$`).exec(line);
          return m ? [[Number(m[1]), 'xyzw'.indexOf(m[2])]] : [];
        });
    expect(bLoads('b_quad_any')).toEqual(quads.map((q) => [q, q]));
    expect(bLoads('b_row4')).toEqual(quads.map((q) => [q, q]));
    // Tile t<g><q> updated from itself with quad q's B and group g's A: [g, q, g, q, q, g] per line.
    const updates = groups.flatMap((g) => quads.map((q) => [g, q, g, q, q, g]));
    expect(unrolled('gemm.wgsl', /^\s*w\.t(\d)(\d) = quad_rows\(w\.t(\d)(\d), b(\d), a(\d)\);$/)).toEqual(updates);
    expect(unrolled('gemm.wgsl', /^\s*w\.t(\d)(\d) = one_k\(w\.t(\d)(\d), b(\d), x(\d)\);$/)).toEqual(updates);
    // Both wide entries' stores: group g's four tiles, 8g rows down, the rows left past 8g.
    const storeLines = shader('gemm.wgsl')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => !line.startsWith('fn ') && /store_wide_group(_rows)?\(first/.test(line));
    const expected = (rowsEntry: boolean) =>
      groups.map((g) => {
        const down = g === 0 ? 'first' : rowsEntry ? `first + ${8 * g}u * steps.x` : `first + ${8 * g}u * stride`;
        const tiles = quads.map((q) => `w.t${g}${q}`).join(', ');
        const call = `store_wide_group${rowsEntry ? '_rows' : ''}(${down}, ${rowsEntry ? 'steps' : 'stride'}, n, has, ${tiles}, bias, rows${g === 0 ? '' : ` - ${8 * g}u`});`;
        if (g === 0) return call;
        return `if (${g > 1 ? 'WIDE_GROUPS > 2u && ' : ''}rows > ${8 * g}u) { ${call} }`;
      });
    expect(storeLines).toEqual([...expected(false), ...expected(true)]);
    // A group's quads: quad q's tile at column n.<q> with its bias, where it lies in C (quad 0 always).
    const quadStores = (fn: string) =>
      shader('gemm.wgsl')
        .split('\n')
        .flatMap((line) => {
          const m = new RegExp(`${fn}\\(first \\+ n\\.([xyzw])(?: / 4u, stride| \\* steps\\.y, steps, n\\.([xyzw])), t(\\d), bias\\[(\\d)\\], rows\\);`).exec(
            line,
          );
          if (!m) return [];
          const lane = 'xyzw'.indexOf(m[1]);
          const guard = lane === 0 ? '' : `has.${m[1]}`;
          expect(line.includes(guard), line).toBe(true);
          return [[lane, m[2] === undefined ? lane : 'xyzw'.indexOf(m[2]), Number(m[3]), Number(m[4])]];
        });
    expect(quadStores('store_tile')).toEqual(quads.map((q) => [q, q, q, q]));
    expect(quadStores('store_tile_rows')).toEqual(quads.map((q) => [q, q, q, q]));
  });

  it('wide step: t<g><u> is batch rows b0 + 8g × unit u, updated 8g rows down', () => {
    const file = 'recurrent-step.wgsl';
    const groups = [0, 1, 2, 3];
    const units = [0, 1, 2, 3];
    expect(unrolled(file, /^\s*let a(\d) = h_rows8\(lane, base, (\d+)u, rows, k\);$/)).toEqual(groups.map((g) => [g, 8 * g]));
    expect(unrolled(file, /^\s*let x(\d) = h_column8\(lane, base, (\d+)u, rows, k\);$/)).toEqual(groups.map((g) => [g, 8 * g]));
    // Unit u's W_hh (both loops: four k, then one k) from its own row index w.x, w.y, w.z, w.w in
    // `params`, or its own texel column j.x, j.y, j.z, j.w in the texture.
    const wLoads = (load: string) =>
      shader(file)
        .split('\n')
        .flatMap((line) => {
          const m = new RegExp(`^\\s*(?:let |)u(\\d) = ${load}\\(w\\.([xyzw]), j\\.([xyzw]), y\\);$`).exec(line);
          return m ? [[Number(m[1]), 'xyzw'.indexOf(m[2]), 'xyzw'.indexOf(m[3])]] : [];
        });
    expect(wLoads('w_hh_quad')).toEqual(units.map((u) => [u, u, u]));
    expect(wLoads('w_hh_one')).toEqual(units.map((u) => [u, u, u]));
    // Tile t<g><u> updated from itself with unit u's W_hh and group g's h: [g, u, g, u, u, g] per line.
    const updates = groups.flatMap((g) => units.map((u) => [g, u, g, u, u, g]));
    expect(unrolled(file, /^\s*t\.t(\d)(\d) = quad_rows\(t\.t(\d)(\d), u(\d), a(\d)\);$/)).toEqual(updates);
    expect(unrolled(file, /^\s*t\.t(\d)(\d) = one_k\(t\.t(\d)(\d), u(\d), x(\d)\);$/)).toEqual(updates);
    // The eight plain h loads, rows m … m + 7 in order.
    expect(unrolled(file, /^\s*let i(\d) = base \+ min\(m(?: \+ (\d)u)?, last\) \* K \+ k;$/)).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((r) => [r, r === 0 ? Number.NaN : r]),
    );
    // The updates: group g's four tiles from batch row b0 + 8g, the rows left past 8g.
    const groupUpdates = shader(file)
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /update_group\(d, b0/.test(line));
    const expected = groups.map((g) => {
      const tiles = units.map((u) => `t.t${g}${u}`).join(', ');
      const call = `update_group(d, b0${g === 0 ? '' : ` + ${8 * g}u`}, j, has, ${tiles}, bias, rows${g === 0 ? '' : ` - ${8 * g}u`});`;
      if (g === 0) return call;
      return `if (WIDE_GROUPS > ${g === 1 ? 1 : 2}u && rows > ${8 * g}u) { ${call} }`;
    });
    expect(groupUpdates).toEqual(expected);
    // A group's units: unit u's tile with its bias, where the unit lies in the layer (unit 0 always).
    const unitUpdates = shader(file)
      .split('\n')
      .flatMap((line) => {
        const m = /update_tile\(d, b, j\.([xyzw]), t(\d), bias\[(\d)\], rows\);/.exec(line);
        if (!m) return [];
        const lane = 'xyzw'.indexOf(m[1]);
        expect(line.includes(lane === 0 ? '' : `has.${m[1]}`), line).toBe(true);
        return [[lane, Number(m[2]), Number(m[3])]];
      });
    expect(unitUpdates).toEqual(units.map((u) => [u, u, u]));
  });

  it('blocked backward: row r of the block reads its own dg_h, accumulates into a r and is finished with it', () => {
    const file = 'recurrent-backward.wgsl';
    const rows = [1, 2, 3, 4, 5, 6, 7];
    // Both blocked kernels (one input per invocation, and four: persistent_backward_blocked4).
    expect(unrolled(file, /^\s*let o(\d) = min\((\d)u, rows - 1u\) \* H;$/)).toEqual([...rows, ...rows].map((r) => [r, r]));
    expect(unrolled(file, /^\s*(?:if \(BLOCK_B > 1u\) \{ )?a(\d) = fma\(wk, dgb\[g \+ o(\d)\], a(\d)\);(?: \})?$/)).toEqual(rows.map((r) => [r, r, r]));
    expect(unrolled(file, /^\s*if \(BLOCK_B > (\d)u && rows > (\d)u\) \{ blocked_row\(d, s, i, j, b0 \+ (\d)u, (\d)u, a(\d), nxt\); \}$/)).toEqual(
      rows.map((r) => [r, r, r, r, r]),
    );
    expect(unrolled(file, /^\s*(?:if \(BLOCK_B > 1u\) \{ )?a(\d) = quads_fma\(wk, dg_shared\(g \+ o(\d), lane\), a(\d)\);(?: \})?$/)).toEqual(
      rows.map((r) => [r, r, r]),
    );
    expect(
      unrolled(file, /^\s*if \(BLOCK_B > (\d)u && rows > (\d)u\) \{ blocked_row\(d, s, i, j, b0 \+ (\d)u, (\d)u, quad_output\(a(\d), v\), nxt\); \}$/),
    ).toEqual(rows.map((r) => [r, r, r, r, r]));
  });

  it('step kernel: row r of the block reads its own h and accumulates into acc r', () => {
    const rows = [0, 1, 2, 3];
    const file = 'recurrent-step.wgsl';
    expect(unrolled(file, /^\s*let h(\d) = \(d \* B \+ b0 \+ min\((\d)u, rows - 1u\)\) \* K;$/)).toEqual(rows.slice(1).map((r) => [r, r]));
    expect(unrolled(file, /^\s*let x(\d) = state_prev4\[\(h(\d) \+ k\) \/ 4u\] \* scale4\(h(\d) \+ k\);$/)).toEqual(rows.map((r) => [r, r, r]));
    expect(unrolled(file, /^\s*acc(\d) = quad_fma\(w, x(\d), acc(\d)\);$/)).toEqual(rows.map((r) => [r, r, r]));
    // The k remainder, one column at a time.
    expect(
      unrolled(
        file,
        /^\s*(?:if \(BLOCK_B > 1u\) \{ )?acc(\d) = fma\(w, vec4<f32>\(state_prev\[h(\d) \+ k\] \* recurrent_scale\(h(\d) \+ k\)\), acc(\d)\);(?: \})?$/,
      ),
    ).toEqual(rows.map((r) => [r, r, r, r]));
    expect(unrolled(file, /^\s*if \(rows > (\d)u\) \{ update_unit\(d, b0 \+ (\d)u, j, acc(\d) \+ bias\); \}$/)).toEqual(rows.slice(1).map((r) => [r, r, r]));
  });
});
