/** A worker thread of `eval --workers N`: runs its share of the cases and posts each result. */
import { parentPort, workerData } from "node:worker_threads";
import type { EvalInput } from "../io/eval-input.js";
import { type EvalOptions, prepareEval, runCase } from "./eval.js";

const { input, indices, options } = workerData as {
  input: EvalInput;
  indices: number[];
  options: EvalOptions;
};
const prepared = await prepareEval(input, options);
for (const [k, c] of input.cases.entries()) {
  parentPort?.postMessage({ index: indices[k], result: await runCase(c, prepared, options) });
}
