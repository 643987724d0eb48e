/** Signing keys: the pair `keygen` writes, and a run sealed with a private key (`run --sign`). */
import type { ProducedRun } from "../../core/pipeline/produce.js";
import { readPrivateKey } from "../../io/runs/keys.js";
import { signRun } from "../../io/runs/sign-run.js";

export { readPublicKey, writeKeyPair } from "../../io/runs/keys.js";

/** The seal that adds signature.json with the Ed25519 key in `keyFile` (read now: a bad key fails before the run). */
export function signingSeal(keyFile: string): (run: ProducedRun) => void {
  const key = readPrivateKey(keyFile);
  return (run) => signRun(run.files, key);
}
