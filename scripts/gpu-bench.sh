#!/usr/bin/env bash
# The benchmark and the GPU tests on a machine with a real GPU that cannot reach the network and may have
# no Node: what they need travels with the working tree, in .device/ (git-ignored).
#
#   bash scripts/gpu-bench.sh pack               # here: build the benchmark, pack Node, Dawn and the test runner
#                                                # (≈ 45 MiB; xz, which every Debian and Ubuntu has)
#   bash scripts/gpu-bench.sh run [bench options] # there, with .device carried: unpack, refuse a software
#                                                # adapter, run the benchmark; results in $OUT (else .device/out)
#   bash scripts/gpu-bench.sh test [vitest args]  # there: the same, then the GPU test files on that adapter
#
# `run` times our engine alone (webgpu-rnn and its forward, every shape, training and --big included, unless
# the options say otherwise), and PyTorch on the same GPU (pytorch-cuda) on the training shapes where the
# machine's python3 has torch with CUDA: the peers' packages (TensorFlow.js, ONNX Runtime Web: ~430 MiB) do
# not fit the 64 MiB a device call carries. `test` runs vitest (carried: the packages it needs, none of the
# peers') over the files that check our kernels against the float64 reference and the PyTorch fixtures.
# Exit status: 2 for usage, 3 when the adapter is not a GPU, else the benchmark's or vitest's.
# GPU_BENCH_ALLOW_SOFTWARE=1 lets a software adapter through: a dry run of the whole path, here.
set -euo pipefail
cd "$(dirname "$0")/.."
pack=.device
dawn_files=(node_modules/webgpu/package.json node_modules/webgpu/index.js node_modules/webgpu/dist/linux-x64)
# The test files whose checks run on the GPU in Node (the rest are CPU-only, Chromium or build checks).
gpu_tests=(test/ops test/gpu-node.test.ts test/gpu-node-f16.test.ts test/gpu-node-f16-packed.test.ts test/api.test.ts
  test/api-errors.test.ts test/uniforms.test.ts test/train/char-lm.test.ts test/train/checkpoint.test.ts
  test/train/errors.test.ts test/train/gradient-flow.test.ts test/train/seq2seq-api.test.ts test/train/recurrent-dropout.test.ts)
# vitest and what it loads, found by following package.json's dependencies through node_modules/.
test_roots=(vitest fast-check protobufjs)

unxz_tar() { # FILE DIR: xz where it is installed, else Python's lzma
  if command -v xz >/dev/null; then
    tar -xJf "$1" -C "$2"
  else
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1" | tar -x -C "$2"
  fi
}

# Unpacks Node, the Vulkan loader (where the machine lacks one), Dawn and the benchmark; sets `node` and
# `out`; exits 3 unless Dawn's default adapter is a GPU.
prepare() {
  out=${OUT:-$pack/out}
  mkdir -p "$out" "$pack/bin" "$pack/lib"
  for f in node vulkan dawn bench; do
    [ -f "$pack/$f.tar.xz" ] || { echo "gpu-bench: $pack/$f.tar.xz is missing: run 'bash scripts/gpu-bench.sh pack' here and carry $pack" >&2; exit 2; }
  done
  unxz_tar "$pack/node.tar.xz" "$pack/bin"
  if ! ldconfig -p | grep -q 'libvulkan\.so\.1 '; then
    unxz_tar "$pack/vulkan.tar.xz" "$pack/lib"
    export LD_LIBRARY_PATH="$PWD/$pack/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  # NVIDIA's Vulkan driver where the device machines keep it, when the loader's own places have none.
  nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$nvidia_icd" ] && ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=$nvidia_icd
  fi
  unxz_tar "$pack/dawn.tar.xz" .
  unxz_tar "$pack/bench.tar.xz" .
  node=("$pack"/bin/*)
  # The adapter Dawn gives by default must be a GPU: SwiftShader, llvmpipe and lavapipe are CPUs.
  if ! "${node[0]}" --input-type=module -e "
    const dawn = await import('webgpu');
    Object.assign(globalThis, dawn.globals);
    const adapter = await dawn.create([]).requestAdapter({ powerPreference: 'high-performance' });
    const i = adapter?.info ?? {};
    const name = [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'none';
    console.log('adapter: ' + name);
    if (!adapter || (!process.env.GPU_BENCH_ALLOW_SOFTWARE && (i.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(name)))) process.exit(3);
  " | tee "$out/adapter.txt"; then
    echo "gpu-bench: no hardware adapter here (see above); nothing was run" >&2
    exit 3
  fi
}

case "${1:-}" in
pack)
  npm run build:bench --silent
  mkdir -p "$pack"
  rm -f "$pack"/*.tar.gz "$pack"/*.tar.xz
  node_bin=$(readlink -f "$(command -v node)")
  tar -cJf "$pack/node.tar.xz" -C "$(dirname "$node_bin")" "$(basename "$node_bin")"
  # Dawn needs the Vulkan loader, which a bare GPU machine may lack.
  loader=$(readlink -f "$(ldconfig -p | grep -m1 -o '/[^ ]*libvulkan\.so\.1$')")
  tar -cJf "$pack/vulkan.tar.xz" -C "$(dirname "$loader")" --transform "s|.*|libvulkan.so.1|" "$(basename "$loader")"
  tar -cJf "$pack/dawn.tar.xz" "${dawn_files[@]}"
  tar -cJf "$pack/bench.tar.xz" dist-bench
  mapfile -t test_packages < <(node -e '
    const fs = require("fs"), seen = new Set();
    const visit = (name) => {
      const manifest = `node_modules/${name}/package.json`;
      if (seen.has(name) || name === "webgpu" || !fs.existsSync(manifest)) return; // webgpu: Dawn travels on its own
      seen.add(name);
      const p = JSON.parse(fs.readFileSync(manifest, "utf8"));
      for (const d of Object.keys({ ...p.dependencies, ...p.optionalDependencies, ...p.peerDependencies })) visit(d);
    };
    process.argv.slice(1).forEach(visit);
    console.log([...seen].map((n) => `node_modules/${n}`).join("\n"));
  ' "${test_roots[@]}")
  [ -d node_modules/vitest ] || { echo "gpu-bench: node_modules/vitest is missing: run npm ci first" >&2; exit 2; }
  tar -cJf "$pack/tests.tar.xz" "${test_packages[@]}"
  echo "packed into $pack/ (${#test_packages[@]} packages for the tests): carry it (device run: carry [\"$pack\"], command: bash scripts/gpu-bench.sh run, or test)"
  ;;
run)
  shift
  prepare
  args=("$@")
  [ ${#args[@]} -gt 0 ] || args=(--big --runs 5)
  systems=webgpu-rnn,webgpu-rnn-forward
  # PyTorch on the same GPU, where the machine's python3 has torch built with CUDA.
  if python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
    systems+=,pytorch-cuda
    export WEBGPU_RNN_PYTHON
    WEBGPU_RNN_PYTHON=$(command -v python3)
  fi
  "${node[0]}" dist-bench/bench.js --systems "$systems" "${args[@]}" --json "$out/bench-gpu.json" 2>&1 | tee "$out/bench-gpu.log"
  ;;
test)
  shift
  prepare
  [ -f "$pack/tests.tar.xz" ] || { echo "gpu-bench: $pack/tests.tar.xz is missing: run 'bash scripts/gpu-bench.sh pack' here and carry $pack" >&2; exit 2; }
  unxz_tar "$pack/tests.tar.xz" .
  args=("$@")
  [ ${#args[@]} -gt 0 ] || args=("${gpu_tests[@]}")
  # One worker per two cores: the float64 references are the CPU's share of these files.
  workers=$(($(nproc) / 2 > 1 ? $(nproc) / 2 : 1))
  PATH="$PWD/$pack/bin:$PATH" "${node[0]}" node_modules/vitest/vitest.mjs run --maxWorkers="$workers" --reporter=default \
    --reporter=json --outputFile.json="$out/vitest-gpu.json" "${args[@]}" 2>&1 | tee "$out/vitest-gpu.log"
  ;;
*)
  echo "usage: bash scripts/gpu-bench.sh pack | run [benchmark options] | test [vitest arguments]" >&2
  exit 2
  ;;
esac
