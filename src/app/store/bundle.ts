/** `bundle export` and `bundle import`: one run and the store objects it pins, as one file. */
export { exportRun, importRun } from "../../io/runs/bundle.js";
