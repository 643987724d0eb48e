/** Detached Ed25519 signatures over a run's manifest root digest (docs/design.md §5, INV-SIG-001). */
import { createHash, createPrivateKey, createPublicKey, sign } from "node:crypto";
import type { Signature } from "../models/run.js";

/** Names a public key by the sha256 of its DER (SPKI) encoding. */
export function publicKeySha256(pem: string): string {
  return createHash("sha256")
    .update(createPublicKey(pem).export({ type: "spki", format: "der" }))
    .digest("hex");
}

/**
 * Signs the ASCII hex of the root digest, so the signed bytes are visible in manifest.json.
 * The signature carries its public key (base64 of the SPKI DER), so a verifier without
 * `--pubkey` still checks it against the key it names; `--pubkey` pins which key that must be.
 */
export function signRootDigest(privateKeyPem: string, rootDigest: string): Signature {
  const key = createPrivateKey(privateKeyPem);
  const publicDer = createPublicKey(key).export({ type: "spki", format: "der" });
  return {
    algorithm: "ed25519",
    root_digest: rootDigest,
    public_key_sha256: createHash("sha256").update(publicDer).digest("hex"),
    public_key: publicDer.toString("base64"),
    signature: sign(null, Buffer.from(rootDigest, "ascii"), key).toString("base64"),
  };
}

/** The PEM of a signature's carried public key (base64 SPKI DER); throws when it is not a key. */
export function carriedPublicKeyPem(publicKeyBase64: string): string {
  return createPublicKey({ key: Buffer.from(publicKeyBase64, "base64"), format: "der", type: "spki" })
    .export({ type: "spki", format: "pem" })
    .toString();
}
