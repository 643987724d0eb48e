/**
 * Unit tests of signature (INV-SIG-001): a present signature verifies over the root digest against the
 * given key. Each finding code from one targeted edit of the fixture run.
 */
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { jsonFile, RUN_FILES } from "../../../../src/core/artifact/files.js";
import { signRootDigest } from "../../../../src/core/artifact/signature.js";
import type { RunView } from "../../../../src/core/artifact/view.js";
import { signatureCheck, signatureState } from "../../../../src/core/verify/checks/signature.js";
import {
  answeredRun,
  codes,
  edited,
  keyPair,
  paramsOf,
  reread,
  sealed,
  sealing,
  signedFiles,
  withFiles,
  ZEROS,
} from "./fixture.js";

const run = answeredRun();
const signed = reread(signedFiles(run));
const { publicPem } = keyPair();
const check = (view: RunView, publicKeyPem?: string, requireSignature = false) =>
  signatureCheck.run(
    view,
    sealed(run, {
      ...(publicKeyPem === undefined ? {} : { publicKeyPem }),
      ...(requireSignature ? { requireSignature } : {}),
    }),
  );
/** The state the CLI, the API and the report page show for an outcome. */
const stateOf = (outcome: ReturnType<typeof check>) =>
  signatureState([{ name: "signature", metrics: outcome.metrics ?? {} }]);

/** The signed view with its signature string edited. */
const withSignature = (edit: (signature: string) => string) =>
  edited(signed, (v) => {
    if (v.signature) v.signature.signature = edit(v.signature.signature);
  });

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

describe("signature", () => {
  it("passes an unsigned run without a key, and a signed run with its key", () => {
    expect(codes(check(run.view))).toEqual([]);
    expect(codes(check(signed, publicPem))).toEqual([]);
  });

  it("checks nothing while sealing: the signature cannot exist yet", () => {
    expect(
      codes(
        signatureCheck.run(
          withSignature(() => "AAAA"),
          sealing(run.store),
        ),
      ),
    ).toEqual([]);
  });

  it("leaves an unreadable signature.json to the schemas check", () => {
    expect(codes(check({ ...signed, signature: null }, publicPem))).toEqual([]);
  });

  it("SIGNATURE_MISSING: a key was given but the run is not signed", () => {
    expect(codes(check(run.view, publicPem))).toEqual(["SIGNATURE_MISSING"]);
  });

  it("SIGNATURE_ENCODING: the same signature bytes in non-canonical base64", () => {
    // The last character before "==" carries 2 data bits and 4 padding bits: flip a padding bit.
    const view = withSignature((s) => {
      const i = s.indexOf("=") - 1;
      return `${s.slice(0, i)}${B64[B64.indexOf(s[i] as string) ^ 1]}${s.slice(i + 1)}`;
    });
    expect(codes(check(view, publicPem))).toEqual(["SIGNATURE_ENCODING"]);
  });

  it("SIGNATURE_DIGEST: a valid signature over another root digest", () => {
    const view = reread(
      withFiles(run.files, { [RUN_FILES.signature]: jsonFile(signRootDigest(keyPair().privatePem, ZEROS)) }),
    );
    expect(codes(check(view, publicPem))).toEqual(["SIGNATURE_DIGEST"]);
  });

  it("without a key, verifies against the key the signature carries", () => {
    expect(codes(check(signed))).toEqual([]);
    expect(codes(check(withSignature((s) => `${s[0] === "A" ? "B" : "A"}${s.slice(1)}`)))).toEqual([
      "SIGNATURE_INVALID",
    ]);
  });

  it("SIGNATURE_UNVERIFIED: signed before keys were carried, and no key to verify with", () => {
    const legacy = edited(signed, (v) => {
      if (v.signature) delete v.signature.public_key;
    });
    expect(codes(check(legacy))).toEqual(["SIGNATURE_UNVERIFIED"]);
  });

  it("CARRIED_KEY_MISMATCH: the carried key is not the key the signature names", () => {
    const otherKey = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" });
    const swapped = edited(signed, (v) => {
      if (v.signature) v.signature.public_key = otherKey.toString("base64");
    });
    expect(codes(check(swapped))).toEqual(["CARRIED_KEY_MISMATCH", "SIGNATURE_INVALID"]);
  });

  it("SIGNATURE_OTHER_KEY: signed by another key", () => {
    const other = generateKeyPairSync("ed25519")
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    const outcome = check(reread(signedFiles(run, other)), publicPem);
    expect(codes(outcome)).toEqual(["SIGNATURE_OTHER_KEY", "SIGNATURE_INVALID"]);
  });

  it("PUBLIC_KEY_UNUSABLE: the given key is not a key", () => {
    const outcome = check(signed, "not a key");
    expect(codes(outcome)).toEqual(["PUBLIC_KEY_UNUSABLE", "SIGNATURE_INVALID"]);
    expect(paramsOf(outcome, "PUBLIC_KEY_UNUSABLE").error).toEqual(expect.any(String));
  });

  it("issue 19 signatures: a signature naming the victim's key by hash, carrying no key, holding 64 random bytes, is 'signed, not verified' and fails --require-signature", () => {
    const forged = edited(signed, (v) => {
      if (v.signature) {
        delete v.signature.public_key;
        v.signature.signature = Buffer.alloc(64, 0x5a).toString("base64");
      }
    });
    const plain = check(forged);
    expect(codes(plain)).toEqual(["SIGNATURE_UNVERIFIED"]);
    expect(stateOf(plain)).toBe("not verified");
    expect(plain.details).toMatch(/^signed, not verified/);
    const required = check(forged, undefined, true);
    expect(codes(required)).toEqual(["SIGNATURE_UNVERIFIED", "SIGNATURE_REQUIRED_UNVERIFIED"]);
    expect(stateOf(required)).toBe("not verified");
    // Given the key it names, the random bytes are checked, and fail.
    expect(codes(check(forged, publicPem))).toEqual(["SIGNATURE_INVALID"]);
    expect(stateOf(check(forged, publicPem))).toBe("invalid");
  });

  it("issue 19 signatures: an RSA key and signature labelled ed25519 are never reported as Ed25519 verified", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const der = rsa.publicKey.export({ type: "spki", format: "der" });
    const forged = edited(signed, (v) => {
      if (v.signature) {
        v.signature.public_key = der.toString("base64");
        v.signature.public_key_sha256 = createHash("sha256").update(der).digest("hex");
        // A valid RSA signature over the root digest, the way null picks RSA's default scheme.
        v.signature.signature = sign(
          null,
          Buffer.from(v.signature.root_digest, "ascii"),
          rsa.privateKey,
        ).toString("base64");
      }
    });
    const outcome = check(forged);
    expect(codes(outcome)).toEqual(["SIGNATURE_KEY_TYPE", "SIGNATURE_INVALID"]);
    expect(paramsOf(outcome, "SIGNATURE_KEY_TYPE").type).toBe("rsa");
    expect(stateOf(outcome)).toBe("invalid");
    // The same through a given key: an RSA --pubkey is not an Ed25519 key either.
    const given = rsa.publicKey.export({ type: "spki", format: "pem" }).toString();
    expect(codes(check(forged, given))).toEqual(["SIGNATURE_KEY_TYPE", "SIGNATURE_INVALID"]);
  });

  it("issue 19 signatures: only a signature checked against an Ed25519 key with no finding is 'verified'", () => {
    expect(stateOf(check(signed))).toBe("verified");
    expect(stateOf(check(signed, publicPem, true))).toBe("verified");
    expect(stateOf(check(run.view))).toBe("unsigned");
    expect(stateOf(check(withSignature((s) => `${s[0] === "A" ? "B" : "A"}${s.slice(1)}`)))).toBe("invalid");
    // A digest mismatch next to a missing key is broken, not merely unverifiable.
    const both = edited(signed, (v) => {
      if (v.signature) {
        delete v.signature.public_key;
        v.signature.root_digest = ZEROS;
      }
    });
    expect(codes(check(both))).toEqual(["SIGNATURE_DIGEST", "SIGNATURE_UNVERIFIED"]);
    expect(stateOf(check(both))).toBe("invalid");
  });

  it("SIGNATURE_INVALID: the signature bytes changed", () => {
    const view = withSignature((s) => `${s[0] === "A" ? "B" : "A"}${s.slice(1)}`);
    expect(codes(check(view, publicPem))).toEqual(["SIGNATURE_INVALID"]);
  });
});
