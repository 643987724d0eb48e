/**
 * Unit tests of signature (INV-SIG-001): a present signature verifies over the root digest against the
 * given key. Each finding code from one targeted edit of the fixture run.
 */
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { jsonFile, RUN_FILES } from "../../../../src/core/artifact/files.js";
import { signRootDigest } from "../../../../src/core/artifact/signature.js";
import type { RunView } from "../../../../src/core/artifact/view.js";
import { signatureCheck } from "../../../../src/core/verify/checks/signature.js";
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
const check = (view: RunView, publicKeyPem?: string) =>
  signatureCheck.run(view, sealed(run, publicKeyPem === undefined ? {} : { publicKeyPem }));

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

  it("SIGNATURE_INVALID: the signature bytes changed", () => {
    const view = withSignature((s) => `${s[0] === "A" ? "B" : "A"}${s.slice(1)}`);
    expect(codes(check(view, publicPem))).toEqual(["SIGNATURE_INVALID"]);
  });
});
