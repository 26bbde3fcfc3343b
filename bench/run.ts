// `npm run bench`: every benchmark in turn. Benchmarks measure speed and memory; they are not tests and assert
// nothing about time. Results are recorded by hand in docs/benchmarks.md with the machine and the command.
// Usage: npm run bench [-- NAME ...], NAME one of the keys of `benchmarks`.
import { main as diff } from './diff';
import { main as evaluation } from './evaluation';
import { main as formats } from './formats';
import { main as linearAssignment } from './linearAssignment';
import { main as onnxListing } from './onnxListing';
import { main as pytorchListing } from './pytorchListing';
import { main as wasmKernels } from './wasmKernels';
import { main as weightMatching } from './weightMatching';

const benchmarks: Record<string, () => void | Promise<void>> = {
  formats: () => formats([]),
  wasmKernels: () => wasmKernels([]),
  pytorchListing: () => pytorchListing([]),
  onnxListing: () => onnxListing([]),
  linearAssignment: () => linearAssignment([]),
  weightMatching: () => weightMatching([]),
  evaluation: () => evaluation([]),
  diff: () => diff([]),
};

async function runAll(names: readonly string[]): Promise<void> {
  for (const name of names) {
    const benchmark = benchmarks[name];
    if (!benchmark) {
      console.error(`Unknown benchmark "${name}"; expected one of ${Object.keys(benchmarks).join(', ')}.`);
      process.exitCode = 2;
      return;
    }
    console.log(`\n## ${name}`);
    await benchmark();
  }
}

const requested = process.argv.slice(2);
void runAll(requested.length > 0 ? requested : Object.keys(benchmarks));
