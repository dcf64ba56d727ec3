/**
 * The benchmark's command, built by `npm run build:bench` into dist-bench/bench.js (`npm run bench`
 * builds and runs it). It lives beside the library, not in the published package: its peers
 * (TensorFlow.js, ONNX Runtime Web, puppeteer, Vite) are dev dependencies of this repository.
 */
import { RnnError } from '../errors.js';
import { BENCH_USAGE, benchMain } from './cli.js';

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(BENCH_USAGE);
    return 0;
  }
  try {
    await benchMain(argv, [process.execPath, process.argv[1]]);
    return 0;
  } catch (e) {
    // A mistake in the options: the message and the usage. Anything else keeps its stack.
    if (!(e instanceof RnnError && e.code === 'USAGE')) throw e;
    console.error(`bench: ${e.message}\n\n${BENCH_USAGE}`);
    return 2;
  }
}

// Exit explicitly: a WebGPU device can keep Node's event loop alive after the work is done.
process.exit(await main(process.argv.slice(2)));
