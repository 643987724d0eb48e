/** Detached Ed25519 signatures over a run's manifest root digest (SPEC §5, INV-SIG-001). */
import { createHash, createPrivateKey, createPublicKey, sign } from "node:crypto";
import type { Signature } from "../models/run.js";

/** Names a public key by the sha256 of its DER (SPKI) encoding. */
export function publicKeySha256(pem: string): string {
  return createHash("sha256")
    .update(createPublicKey(pem).export({ type: "spki", format: "der" }))
    .digest("hex");
}

/** Signs the ASCII hex of the root digest, so the signed bytes are visible in manifest.json. */
export function signRootDigest(privateKeyPem: string, rootDigest: string): Signature {
  const key = createPrivateKey(privateKeyPem);
  const publicPem = createPublicKey(key).export({ type: "spki", format: "pem" }).toString();
  return {
    algorithm: "ed25519",
    root_digest: rootDigest,
    public_key_sha256: publicKeySha256(publicPem),
    signature: sign(null, Buffer.from(rootDigest, "ascii"), key).toString("base64"),
  };
}
