/**
 * signature (INV-SIG-001): a present signature verifies over the manifest root digest against the
 * given public key, or without one against the key it carries; a required signature is present
 * and verified. Only Ed25519 keys count. A signature whose key the verifier does not have (none
 * carried, none given) is "signed, not verified": a warning, and a failure when a signature is
 * required. The outcome's metrics say which (see `signatureState`), so the CLI, the API and the
 * report page never call such a signature verified.
 */
import { createPublicKey, verify } from "node:crypto";
import { carriedPublicKeyPem, publicKeySha256 } from "../../artifact/signature.js";
import type { Signature } from "../../models/run.js";
import type { CheckResult } from "../../models/verification-report.js";
import type { Check, CheckContext, CheckOutcome } from "../check.js";
import { type Finding, finding } from "../findings.js";

/** What a verification found about a run's signature, as every surface words it. */
export type SignatureState = "unsigned" | "verified" | "not verified" | "invalid";

/**
 * The signature state a verification report records (the signature check's metrics): only a
 * signature checked against an Ed25519 key with no finding at all is "verified".
 */
export function signatureState(checks: readonly Pick<CheckResult, "name" | "metrics">[]): SignatureState {
  const metrics = checks.find((c) => c.name === "signature")?.metrics ?? {};
  if (metrics.signed !== 1) return "unsigned";
  if (metrics.verified === 1) return "verified";
  return metrics.key_missing === 1 ? "not verified" : "invalid";
}

/** The key type of a PEM public key ("ed25519", "rsa", …), or throws when it is not a key. */
const keyType = (pem: string) => createPublicKey(pem).asymmetricKeyType ?? "unknown";

/** The outcome for a run without a readable signature: a finding when one was required. */
function withoutSignature(fileExists: boolean, pem: string | undefined, context: CheckContext): CheckOutcome {
  const findings: Finding[] = [];
  if (fileExists)
    return {
      findings,
      details: "signature.json unreadable (see schemas)",
      metrics: { signed: 1, verified: 0, key_missing: 0 },
    };
  const required = pem !== undefined || context.requireSignature === true;
  if (required) findings.push(finding("SIGNATURE_MISSING", {}));
  return {
    findings,
    details: required ? "not signed, but a signature was required" : "not signed",
    metrics: { signed: 0, verified: 0, key_missing: 0 },
  };
}

/** The key the signature carries, as PEM; undefined when it carries none or an unusable one. */
function carriedKey(sig: Signature, findings: Finding[]): string | undefined {
  if (sig.public_key === undefined) return undefined;
  // A carried key must be an Ed25519 key, and the key the signature names by hash.
  let carried: string | undefined;
  try {
    carried = carriedPublicKeyPem(sig.public_key);
    if (publicKeySha256(carried) !== sig.public_key_sha256)
      findings.push(finding("CARRIED_KEY_MISMATCH", {}));
  } catch (e) {
    findings.push(finding("PUBLIC_KEY_UNUSABLE", { error: e instanceof Error ? e.message : String(e) }));
  }
  return carried;
}

/**
 * Whether the signature bytes verify over the root digest with this key, which must be an
 * Ed25519 key and, when pinned (pem), the key the signature names.
 */
function signatureVerifies(
  sig: Signature,
  key: string,
  pem: string | undefined,
  findings: Finding[],
): boolean {
  try {
    const type = keyType(key);
    if (type !== "ed25519") findings.push(finding("SIGNATURE_KEY_TYPE", { type }));
    // A pinned key must be the key the signature names.
    else if (pem !== undefined && sig.public_key_sha256 !== publicKeySha256(pem))
      findings.push(finding("SIGNATURE_OTHER_KEY", {}));
    // Only an Ed25519 key reaches verify(): with another type, null would pick its default scheme.
    if (type === "ed25519")
      return verify(null, Buffer.from(sig.root_digest, "ascii"), key, Buffer.from(sig.signature, "base64"));
  } catch (e) {
    findings.push(finding("PUBLIC_KEY_UNUSABLE", { error: e instanceof Error ? e.message : String(e) }));
  }
  return false;
}

export const signatureCheck: Check = {
  name: "signature",
  readsSeal: true,
  invariant: "INV-SIG-001",
  description:
    "a present signature verifies over the manifest root digest against an Ed25519 key (given, or carried); a required one is verified",
  run(view, context): CheckOutcome {
    if (context.stage === "sealing")
      // The signature covers the manifest, which covers this report: it cannot exist yet.
      return { findings: [], details: "not checked: a run is signed after this report and its manifest" };
    const findings: Finding[] = [];
    const sig = view.signature;
    const pem = context.publicKeyPem;
    if (sig === null) return withoutSignature(view.files.has("signature.json"), pem, context);
    // Base64 padding bits can change without changing the decoded bytes: only canonical text counts.
    if (Buffer.from(sig.signature, "base64").toString("base64") !== sig.signature)
      findings.push(finding("SIGNATURE_ENCODING", {}));
    if (view.manifest && sig.root_digest !== view.manifest.root_digest)
      findings.push(finding("SIGNATURE_DIGEST", {}));
    // The carried key is checked even when a key is given.
    const carried = carriedKey(sig, findings);
    const key = pem ?? carried;
    const named = `sha256:${sig.public_key_sha256.slice(0, 12)}…`;
    if (key === undefined) {
      if (sig.public_key !== undefined)
        return {
          findings,
          details: "the carried public key is unusable",
          metrics: { signed: 1, verified: 0, key_missing: 0 },
        };
      // Nothing to check the signature bytes against: never "verified", whatever they hold.
      const otherwiseSound = findings.length === 0;
      findings.push(finding("SIGNATURE_UNVERIFIED", { key: sig.public_key_sha256 }));
      if (context.requireSignature === true)
        findings.push(finding("SIGNATURE_REQUIRED_UNVERIFIED", { key: sig.public_key_sha256 }));
      return {
        findings,
        details: `signed, not verified: the signature names key ${named}, which it does not carry and which was not given (--pubkey)`,
        metrics: { signed: 1, verified: 0, key_missing: otherwiseSound ? 1 : 0 },
      };
    }
    if (!signatureVerifies(sig, key, pem, findings)) findings.push(finding("SIGNATURE_INVALID", {}));
    const verified = findings.length === 0;
    return {
      findings,
      details: !verified
        ? "signature does not verify"
        : pem === undefined
          ? `Ed25519 signature verified against the key it carries (${named}); --pubkey pins the signer`
          : "Ed25519 signature verified against the given public key",
      metrics: { signed: 1, verified: verified ? 1 : 0, key_missing: 0 },
    };
  },
};
