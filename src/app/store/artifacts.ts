/**
 * The artifacts root as the edges see it: where runs live, how it is made ready, and the
 * file-system errors in words. The layout itself is io/'s; edges name it through here.
 */
export { ID_PATTERN } from "../../core/canonical.js";
export { atFsBoundary, errnoInWords } from "../../io/fs/fs-errors.js";
export { checkOutputFile, prepareOutputFolder, writeOutputFile } from "../../io/fs/output.js";
export { packageFile } from "../../io/fs/package-root.js";
export { readRunDirectory } from "../../io/runs/run-reader.js";
export { runsRoot } from "../../io/runs/run-writer.js";
export { prepareArtifactsDir } from "../../io/store/artifacts.js";
export { DiskStore } from "../../io/store/content-store.js";
