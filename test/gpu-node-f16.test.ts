// The GPU agreement suite with half-precision weights read as native f16, in Node on Mesa's lavapipe:
// the software Vulkan driver here with shader-f16 (scripts/setup.sh installs it).
import { f16Suite } from './support/f16-suite.js';

process.env.WEBGPU_RNN_ADAPTER ??= 'llvmpipe'; // read when the first device is requested
await f16Suite('f16');
