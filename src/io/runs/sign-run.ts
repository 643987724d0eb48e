/** Adds signature.json to a sealed run's files: a detached signature over the manifest root digest. */

import { jsonFile, RUN_FILES, type RunFiles } from "../../core/artifact/files.js";
import { signRootDigest } from "../../core/artifact/signature.js";
import { InputError } from "../../core/errors.js";
import { Manifest } from "../../core/models/run.js";

export function signRun(files: RunFiles, privateKeyPem: string): void {
  const bytes = files.get(RUN_FILES.manifest);
  if (bytes === undefined) throw new InputError("E_USAGE", "cannot sign a run without a manifest");
  const manifest = Manifest.parse(JSON.parse(Buffer.from(bytes).toString("utf8")));
  files.set(RUN_FILES.signature, jsonFile(signRootDigest(privateKeyPem, manifest.root_digest)));
}
