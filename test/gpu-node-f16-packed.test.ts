// The GPU agreement suite with half-precision weights read as packed u32 words (unpack2x16float), in
// Node on SwiftShader, which has no shader-f16.
import { f16Suite } from './support/f16-suite.js';

process.env.WEBGPU_RNN_ADAPTER ??= 'SwiftShader'; // read when the first device is requested
await f16Suite('f16-packed');
