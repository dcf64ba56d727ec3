/**
 * An attention heatmap on a canvas: one row per output character, one column per source character,
 * each cell shaded by its weight (0 white … 1 the accent colour), the characters as labels. uPlot
 * draws series over an x axis, not matrices, and a heatmap of at most ~40 × 12 cells is a few lines
 * of canvas, so it is drawn here.
 */
const CELL = 26;
const LABEL = 28;

export function drawHeatmap(canvas: HTMLCanvasElement, rows: readonly string[], columns: readonly string[], weights: readonly (readonly number[])[]): void {
  const ratio = window.devicePixelRatio || 1;
  const width = LABEL + columns.length * CELL;
  const height = LABEL + rows.length * CELL;
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
  columns.forEach((c, j) => g.fillText(c === ' ' ? '␠' : c, LABEL + j * CELL + CELL / 2, LABEL / 2));
  rows.forEach((r, i) => g.fillText(r, LABEL / 2, LABEL + i * CELL + CELL / 2));
  weights.forEach((row, i) =>
    row.forEach((w, j) => {
      const a = Math.max(0, Math.min(1, w));
      // White to #2f6fdb.
      g.fillStyle = `rgb(${Math.round(255 - a * (255 - 0x2f))}, ${Math.round(255 - a * (255 - 0x6f))}, ${Math.round(255 - a * (255 - 0xdb))})`;
      g.fillRect(LABEL + j * CELL + 1, LABEL + i * CELL + 1, CELL - 2, CELL - 2);
    }),
  );
}
