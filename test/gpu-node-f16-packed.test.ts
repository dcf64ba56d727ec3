// The GPU agreement suite with half-precision weights read as packed u32 words (unpack2x16float), in
// Node on SwiftShader, which has no shader-f16: each model on one of its strategies, in turn (every
// kernel and strategy still reads packed weights; gpu-node-f16.test.ts runs every pair with native f16
// on lavapipe, gpu-node.test.ts every pair with f32).
import { f16Suite } from './support/f16-suite.js';

process.env.WEBGPU_RNN_ADAPTER ??= 'SwiftShader'; // read when the first device is requested
await f16Suite('f16-packed', { oneStrategyPerSubject: true });
