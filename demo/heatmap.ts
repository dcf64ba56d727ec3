/**
 * Heatmaps on a canvas: the attention panel's (drawHeatmap: one row per output character, one column
 * per source character, each cell shaded by its weight, 0 white … 1 the accent colour, the characters
 * as labels), and what the gates panel's (demo/gate-heatmap.ts) shares with it: a canvas sized for the
 * screen's pixel ratio with its text set for character labels, and a shade from white towards a colour.
 * uPlot draws series over an x axis, not matrices, and a heatmap of at most ~40 × 12 cells is a few
 * lines of canvas, so it is drawn here.
 */
const CELL = 26;
const LABEL = 28;
/** The accent colour (#2f6fdb) a weight or a positive value shades towards. */
export const ACCENT: readonly [number, number, number] = [0x2f, 0x6f, 0xdb];

/** White blended towards `color` by `k` in [0, 1]. */
export function tint(color: readonly [number, number, number], k: number): string {
  const [r, g, b] = color;
  return `rgb(${Math.round(255 - k * (255 - r))}, ${Math.round(255 - k * (255 - g))}, ${Math.round(255 - k * (255 - b))})`;
}

/** A character as a label: a space shown as ␠, so that it is seen. */
export const charLabel = (c: string) => (c === ' ' ? '␠' : c);

/**
 * Sizes `canvas` to `width` × `height` CSS pixels, drawn at the screen's pixel ratio (sharp on a
 * high-density screen); the context comes back cleared, with centred label text in the page's ink.
 */
export function prepareCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  const ratio = window.devicePixelRatio || 1;
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
  return g;
}

export function drawHeatmap(canvas: HTMLCanvasElement, rows: readonly string[], columns: readonly string[], weights: readonly (readonly number[])[]): void {
  const g = prepareCanvas(canvas, LABEL + columns.length * CELL, LABEL + rows.length * CELL);
  columns.forEach((c, j) => g.fillText(charLabel(c), LABEL + j * CELL + CELL / 2, LABEL / 2));
  rows.forEach((r, i) => g.fillText(r, LABEL / 2, LABEL + i * CELL + CELL / 2));
  weights.forEach((row, i) =>
    row.forEach((w, j) => {
      g.fillStyle = tint(ACCENT, Math.max(0, Math.min(1, w)));
      g.fillRect(LABEL + j * CELL + 1, LABEL + i * CELL + 1, CELL - 2, CELL - 2);
    }),
  );
}
