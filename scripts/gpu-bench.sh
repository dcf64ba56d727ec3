#!/usr/bin/env bash
# The benchmark on a machine with a real GPU that cannot reach the network and may have no Node: what
# it needs travels with the working tree, in .device/ (git-ignored).
#
#   bash scripts/gpu-bench.sh pack               # here: build the benchmark, pack Node and Dawn (≈ 43 MiB; gzip, which every Debian has)
#   bash scripts/gpu-bench.sh run [bench options] # there, with .device carried: unpack, refuse a software
#                                                # adapter, run; results in $OUT (else .device/out)
#
# `run` times our engine alone (webgpu-rnn and its forward, every shape, training and --big included, unless
# the options say otherwise): the peers' packages (TensorFlow.js, ONNX Runtime Web: ~430 MiB) do not fit the
# 64 MiB a device call carries. Exit status: 2 for usage, 3 when the adapter is not a GPU, else the
# benchmark's.
set -euo pipefail
cd "$(dirname "$0")/.."
pack=.device
dawn_files=(node_modules/webgpu/package.json node_modules/webgpu/index.js node_modules/webgpu/dist/linux-x64)

case "${1:-}" in
pack)
  npm run build:bench --silent
  mkdir -p "$pack"
  node_bin=$(readlink -f "$(command -v node)")
  tar -czf "$pack/node.tar.gz" -C "$(dirname "$node_bin")" "$(basename "$node_bin")"
  # Dawn needs the Vulkan loader, which a bare GPU machine may lack.
  loader=$(readlink -f "$(ldconfig -p | grep -m1 -o '/[^ ]*libvulkan\.so\.1$')")
  tar -czf "$pack/vulkan.tar.gz" -C "$(dirname "$loader")" --transform "s|.*|libvulkan.so.1|" "$(basename "$loader")"
  tar -czf "$pack/dawn.tar.gz" "${dawn_files[@]}"
  tar -czf "$pack/bench.tar.gz" dist-bench
  echo "packed into $pack/: carry it (device run: carry [\"$pack\"], command: bash scripts/gpu-bench.sh run)"
  ;;
run)
  shift
  out=${OUT:-$pack/out}
  mkdir -p "$out" "$pack/bin" "$pack/lib"
  for f in node vulkan dawn bench; do
    [ -f "$pack/$f.tar.gz" ] || { echo "gpu-bench: $pack/$f.tar.gz is missing: run 'bash scripts/gpu-bench.sh pack' here and carry $pack" >&2; exit 2; }
  done
  tar -xzf "$pack/node.tar.gz" -C "$pack/bin"
  if ! ldconfig -p | grep -q 'libvulkan\.so\.1 '; then
    tar -xzf "$pack/vulkan.tar.gz" -C "$pack/lib"
    export LD_LIBRARY_PATH="$PWD/$pack/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  # NVIDIA's Vulkan driver where the device machines keep it, when the loader's own places have none.
  nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$nvidia_icd" ] && ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=$nvidia_icd
  fi
  tar -xzf "$pack/dawn.tar.gz"
  tar -xzf "$pack/bench.tar.gz"
  node=("$pack"/bin/*)
  # The adapter Dawn gives by default must be a GPU: SwiftShader, llvmpipe and lavapipe are CPUs.
  if ! "${node[0]}" --input-type=module -e "
    const dawn = await import('webgpu');
    Object.assign(globalThis, dawn.globals);
    const adapter = await dawn.create([]).requestAdapter({ powerPreference: 'high-performance' });
    const i = adapter?.info ?? {};
    const name = [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'none';
    console.log('adapter: ' + name);
    if (!adapter || i.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(name)) process.exit(3);
  " | tee "$out/adapter.txt"; then
    echo "gpu-bench: no hardware adapter here (see above); nothing was timed" >&2
    exit 3
  fi
  args=("$@")
  [ ${#args[@]} -gt 0 ] || args=(--big --runs 5)
  "${node[0]}" dist-bench/bench.js --systems webgpu-rnn,webgpu-rnn-forward "${args[@]}" --json "$out/bench-gpu.json" 2>&1 | tee "$out/bench-gpu.log"
  ;;
*)
  echo "usage: bash scripts/gpu-bench.sh pack | run [benchmark options]" >&2
  exit 2
  ;;
esac
