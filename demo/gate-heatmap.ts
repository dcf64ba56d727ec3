/**
 * One gate's activations as a heatmap on a canvas: a row per hidden unit, a column per character (the
 * characters along the top). Values in [0, 1] (σ gates) shade white → blue; values that take either
 * sign (tanh, c_t) shade red ← white → blue, scaled by `range` (1 for tanh, the largest |c| for c_t).
 * The rows are thin so that 64 units fit; a hover's title says the unit, the character and the value.
 */
const CELL_W = 22;
const TOP = 22;
const MAX_HEIGHT = 260;

function shade(v: number, signed: boolean, range: number): string {
  const a = Math.max(-1, Math.min(1, v / range));
  // Towards #2f6fdb for positive, #d9480f for negative.
  const [r, g, b] = a >= 0 || !signed ? [0x2f, 0x6f, 0xdb] : [0xd9, 0x48, 0x0f];
  const k = Math.abs(a);
  return `rgb(${Math.round(255 - k * (255 - r))}, ${Math.round(255 - k * (255 - g))}, ${Math.round(255 - k * (255 - b))})`;
}

/** Draws `values` ([t][unit]) over `chars`; `signed` for values of either sign, scaled by `range`. */
export function drawGateHeatmap(canvas: HTMLCanvasElement, chars: readonly string[], values: readonly (readonly number[])[], signed: boolean, range = 1): void {
  const units = values[0]?.length ?? 0;
  const rowH = Math.max(2, Math.min(14, Math.floor(MAX_HEIGHT / Math.max(1, units))));
  const ratio = window.devicePixelRatio || 1;
  const width = chars.length * CELL_W;
  const height = TOP + units * rowH;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const g = canvas.getContext('2d')!;
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  g.font = '14px system-ui, "Noto Sans CJK SC", "PingFang SC", sans-serif';
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  g.fillStyle = '#1d232a';
  chars.forEach((c, t) => g.fillText(c === ' ' ? '␠' : c, t * CELL_W + CELL_W / 2, TOP / 2));
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
