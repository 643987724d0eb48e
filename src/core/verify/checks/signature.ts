/**
 * signature (INV-SIG-001): a present signature verifies over the manifest root digest against the
 * given public key, or without one against the key it carries; a required signature is present.
 */
import { verify } from "node:crypto";
import { carriedPublicKeyPem, publicKeySha256 } from "../../artifact/signature.js";
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
      const required = pem !== undefined || context.requireSignature === true;
      if (required) findings.push(finding("SIGNATURE_MISSING", {}));
      return { findings, details: required ? "not signed, but a signature was required" : "not signed" };
    }
    // Base64 padding bits can change without changing the decoded bytes: only canonical text counts.
    if (Buffer.from(sig.signature, "base64").toString("base64") !== sig.signature)
      findings.push(finding("SIGNATURE_ENCODING", {}));
    if (view.manifest && sig.root_digest !== view.manifest.root_digest)
      findings.push(finding("SIGNATURE_DIGEST", {}));
    // A carried key must be the key the signature names by hash, whether or not one is pinned.
    let carried: string | undefined;
    if (sig.public_key !== undefined) {
      try {
        carried = carriedPublicKeyPem(sig.public_key);
        if (publicKeySha256(carried) !== sig.public_key_sha256)
          findings.push(finding("CARRIED_KEY_MISMATCH", {}));
      } catch (e) {
        findings.push(finding("PUBLIC_KEY_UNUSABLE", { error: e instanceof Error ? e.message : String(e) }));
      }
    }
    const key = pem ?? carried;
    if (key === undefined) {
      if (sig.public_key === undefined) findings.push(finding("SIGNATURE_UNVERIFIED", {}));
      return {
        findings,
        details:
          sig.public_key === undefined
            ? "signed; root digest checked, the signature itself not verified (no --pubkey, no key carried)"
            : "the carried public key is unusable",
      };
    }
    let ok = false;
    try {
      // A pinned key must be the key the signature names.
      if (pem !== undefined && sig.public_key_sha256 !== publicKeySha256(pem))
        findings.push(finding("SIGNATURE_OTHER_KEY", {}));
      ok = verify(null, Buffer.from(sig.root_digest, "ascii"), key, Buffer.from(sig.signature, "base64"));
    } catch (e) {
      findings.push(finding("PUBLIC_KEY_UNUSABLE", { error: e instanceof Error ? e.message : String(e) }));
    }
    if (!ok) findings.push(finding("SIGNATURE_INVALID", {}));
    return {
      findings,
      details:
        findings.length > 0
          ? "signature does not verify"
          : pem === undefined
            ? `Ed25519 signature verified against the key it carries (sha256:${sig.public_key_sha256.slice(0, 12)}…); --pubkey pins the signer`
            : "Ed25519 signature verified against the given public key",
    };
  },
};
