/**
 * One gate's activations as a heatmap on a canvas: a row per hidden unit, a column per character (the
 * characters along the top). Values in [0, 1] (σ gates) shade white → blue; values that take either
 * sign (tanh, c_t) shade red ← white → blue, scaled by `range` (1 for tanh, the largest |c| for c_t).
 * The rows are thin so that 64 units fit; a hover's title says the unit, the character and the value.
 * The canvas and the shading are the attention heatmap's (demo/heatmap.ts).
 */
import { ACCENT, charLabel, prepareCanvas, tint } from './heatmap.js';

const CELL_W = 22;
const TOP = 22;
const MAX_HEIGHT = 260;
/** The colour a negative value shades towards (#d9480f). */
const NEGATIVE: readonly [number, number, number] = [0xd9, 0x48, 0x0f];

function shade(v: number, signed: boolean, range: number): string {
  const a = Math.max(-1, Math.min(1, v / range));
  return tint(a >= 0 || !signed ? ACCENT : NEGATIVE, Math.abs(a));
}

/** Draws `values` ([t][unit]) over `chars`; `signed` for values of either sign, scaled by `range`. */
export function drawGateHeatmap(canvas: HTMLCanvasElement, chars: readonly string[], values: readonly (readonly number[])[], signed: boolean, range = 1): void {
  const units = values[0]?.length ?? 0;
  const rowH = Math.max(2, Math.min(14, Math.floor(MAX_HEIGHT / Math.max(1, units))));
  const g = prepareCanvas(canvas, chars.length * CELL_W, TOP + units * rowH);
  chars.forEach((c, t) => g.fillText(charLabel(c), t * CELL_W + CELL_W / 2, TOP / 2));
  values.forEach((column, t) =>
    column.forEach((v, u) => {
      g.fillStyle = shade(v, signed, range);
      g.fillRect(t * CELL_W, TOP + u * rowH, CELL_W - 1, rowH);
    }),
  );
  canvas.onmousemove = (e) => {
    const t = Math.floor(e.offsetX / CELL_W);
    const u = Math.floor((e.offsetY - TOP) / rowH);
    const v = values[t]?.[u];
    canvas.title = v === undefined ? '' : `${chars[t]} · ${u + 1}: ${v.toFixed(3)}`;
  };
}
