// WGSL sources are imported as text through Vite's `?raw` suffix (inlined into the library build).
declare module '*.wgsl?raw' {
  const source: string;
  export default source;
}
