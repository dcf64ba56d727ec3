/**
 * The suite's file order for two workers: the files that take minutes first (measured on CI: the
 * Chromium agreement suite ≈ 7 min since it runs each model on one strategy, the Node one ≈ 6.5, the
 * date model in Chromium ≈ 5, the benchmark ≈ 2.5, the f16 one on SwiftShader ≈ 2.5 before its own
 * selection, the demo ≈ 2.3), then the rest as vitest's own sequencer orders them. Two workers share the 2-core machine well because a software adapter is
 * mostly one thread compiling pipelines; a long file started last would leave one worker idle while
 * the other finishes it.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export const LONGEST_FIRST = [
  'test/browser.test.ts',
  'test/gpu-node.test.ts',
  'test/browser-dates.test.ts',
  'test/bench.test.ts',
  'test/gpu-node-f16-packed.test.ts',
  'test/demo.test.ts',
];

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rest = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((path) => f.moduleId.endsWith(`/${path}`));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    // Array.prototype.sort is stable: the rest keep the base sequencer's order.
    return rest.sort((a, b) => rank(a) - rank(b));
  }
}
