/**
 * The library's one error type: every mistake a caller can make, and every condition of the host the
 * caller has to act on, throws an RnnError whose `code` says which kind it is (stable, for programs)
 * and whose message names the tensor, option or thing at fault, what was expected and what was given
 * (for people).
 */
export type RnnErrorCode =
  /** Node has no WebGPU: the optional `webgpu` package (Dawn) is not installed. */
  | 'WEBGPU_PACKAGE_MISSING';

export class RnnError extends Error {
  override readonly name = 'RnnError';

  constructor(readonly code: RnnErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
