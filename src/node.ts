/// <reference types="@webgpu/types" preserve="true" />
/**
 * Node helpers: Dawn's GPU object (the `webgpu` package), with the SwiftShader fallback described in
 * gpu/node-gpu.ts. The main entry uses it on its own when there is no navigator.gpu; import this to
 * get a device to share with other code.
 */
export { nodeGpu } from './gpu/node-gpu.js';
export { requestDevice } from './gpu/device.js';
