/** ‖a − b‖ / ‖b‖ over the first `count` elements (NaN if `a` has a non-finite one): the error measure of the benchmark, the demo and the tests. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>, count = b.length): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < count; i++) {
    if (!Number.isFinite(a[i])) return Number.NaN;
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / (n || 1));
}
