/** signature (INV-SIG-001): when a signature is present, it verifies against the configured public key. */
import { verify } from "node:crypto";
import { publicKeySha256 } from "../../run/sign.js";
import type { Check } from "../check.js";
import { error, type Issue, warning } from "../issue.js";

export const signatureCheck: Check = {
  name: "signature",
  invariant: "INV-SIG-001",
  description: "a present signature verifies over the manifest root digest against the given public key",
  run(view, context) {
    const issues: Issue[] = [];
    const sig = view.signature;
    const pem = context.publicKeyPem;
    if (sig === null) {
      if (view.files.has("signature.json"))
        return { issues, details: "signature.json unreadable (see schemas)" };
      if (pem !== undefined)
        issues.push(error("SIGNATURE_MISSING", "a public key was given but the run is not signed"));
      return {
        issues,
        details: pem === undefined ? "not signed" : "not signed, but a signature was required",
      };
    }
    // Base64 padding bits can change without changing the decoded bytes: only canonical text counts.
    if (Buffer.from(sig.signature, "base64").toString("base64") !== sig.signature) {
      issues.push(error("SIGNATURE_ENCODING", "the signature is not canonical base64"));
    }
    if (view.manifest && sig.root_digest !== view.manifest.root_digest)
      issues.push(error("SIGNATURE_DIGEST", "the signature covers another root digest than the manifest's"));
    if (pem === undefined) {
      issues.push(
        warning(
          "SIGNATURE_UNVERIFIED",
          "the run is signed, but no public key was given to verify it (--pubkey)",
        ),
      );
      return { issues, details: "signed; signature not verified without a public key" };
    }
    let ok = false;
    try {
      if (sig.public_key_sha256 !== publicKeySha256(pem))
        issues.push(error("SIGNATURE_KEY", "the run was signed with another key"));
      ok = verify(null, Buffer.from(sig.root_digest, "ascii"), pem, Buffer.from(sig.signature, "base64"));
    } catch (e) {
      issues.push(error("SIGNATURE_KEY", `the public key is unusable: ${(e as Error).message}`));
    }
    if (!ok) issues.push(error("SIGNATURE_INVALID", "the Ed25519 signature does not verify"));
    return { issues, details: ok ? "Ed25519 signature verified" : "signature does not verify" };
  },
};
