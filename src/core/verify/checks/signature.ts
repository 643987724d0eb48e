/** signature (INV-SIG-001): when a signature is present, it verifies against the configured public key. */
import { verify } from "node:crypto";
import { publicKeySha256 } from "../../artifact/signature.js";
import type { Check } from "../check.js";
import { type Finding, finding } from "../findings.js";

export const signatureCheck: Check = {
  name: "signature",
  readsSeal: true,
  invariant: "INV-SIG-001",
  description: "a present signature verifies over the manifest root digest against the given public key",
  run(view, context) {
    if (context.stage === "sealing")
      // The signature covers the manifest, which covers this report: it cannot exist yet.
      return { findings: [], details: "not checked: a run is signed after this report and its manifest" };
    const findings: Finding[] = [];
    const sig = view.signature;
    const pem = context.publicKeyPem;
    if (sig === null) {
      if (view.files.has("signature.json"))
        return { findings, details: "signature.json unreadable (see schemas)" };
      if (pem !== undefined) findings.push(finding("SIGNATURE_MISSING", {}));
      return {
        findings,
        details: pem === undefined ? "not signed" : "not signed, but a signature was required",
      };
    }
    // Base64 padding bits can change without changing the decoded bytes: only canonical text counts.
    if (Buffer.from(sig.signature, "base64").toString("base64") !== sig.signature)
      findings.push(finding("SIGNATURE_ENCODING", {}));
    if (view.manifest && sig.root_digest !== view.manifest.root_digest)
      findings.push(finding("SIGNATURE_DIGEST", {}));
    if (pem === undefined) {
      findings.push(finding("SIGNATURE_UNVERIFIED", {}));
      return {
        findings,
        details: "signed; root digest checked, the signature itself not verified (no --pubkey)",
      };
    }
    let ok = false;
    try {
      if (sig.public_key_sha256 !== publicKeySha256(pem)) findings.push(finding("SIGNATURE_OTHER_KEY", {}));
      ok = verify(null, Buffer.from(sig.root_digest, "ascii"), pem, Buffer.from(sig.signature, "base64"));
    } catch (e) {
      findings.push(finding("PUBLIC_KEY_UNUSABLE", { error: e instanceof Error ? e.message : String(e) }));
    }
    if (!ok) findings.push(finding("SIGNATURE_INVALID", {}));
    return {
      findings,
      details: findings.length === 0 ? "Ed25519 signature verified" : "signature does not verify",
    };
  },
};
