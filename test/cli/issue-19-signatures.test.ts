/**
 * Issue 19 item 6 ("Signatures"), end to end: a signature is "verified" only when checked
 * against an Ed25519 key the verifier has (given with --pubkey, or carried in the run); one
 * naming a key it does not have is "signed, not verified" in the CLI, the API and the report
 * page, and fails --require-signature; a non-Ed25519 key never verifies; re-running a signed
 * run without --sign never drops its signature.
 */
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonFile } from "../../src/core/artifact/files.js";
import { isCleanError, runCli } from "../helpers/cli.js";
import { demoRun, demoRunArgs } from "../helpers/demo-run.js";
import { call, startServer, type TestServer } from "../helpers/http.js";
import { tempDir } from "../helpers/tmp.js";

const runArgs = (root: string, ...extra: string[]) => demoRunArgs({ root, args: extra });

let root: string;
let keys: string;
let runId: string;
let runDir: string;
let signature: Record<string, string>;

/** The signed run's signature.json replaced by `forged`, in a copy of the artifacts root. */
function forgedRoot(forged: Record<string, unknown>): { root: string; runDir: string } {
  const copy = tempDir();
  cpSync(root, copy, { recursive: true });
  const dir = join(copy, "runs", runId);
  // Written the way the producer writes it (canonical JSON), so only the signature is in question.
  writeFileSync(join(dir, "signature.json"), jsonFile(forged));
  return { root: copy, runDir: dir };
}

/** The victim's key named by hash, no key carried, 64 random bytes (the forgery). */
const unknownKeyForgery = () => {
  const { public_key: _carried, ...rest } = signature;
  return { ...rest, signature: Buffer.alloc(64, 0x5a).toString("base64") };
};

/** An RSA key and an RSA signature over the root digest, labelled ed25519 (the forgery). */
function rsaForgery() {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const der = rsa.publicKey.export({ type: "spki", format: "der" });
  return {
    forged: {
      algorithm: "ed25519",
      root_digest: signature.root_digest,
      public_key_sha256: createHash("sha256").update(der).digest("hex"),
      public_key: der.toString("base64"),
      signature: sign(null, Buffer.from(signature.root_digest as string, "ascii"), rsa.privateKey).toString(
        "base64",
      ),
    },
    publicPem: rsa.publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

const codesOf = (stdout: string): string[] =>
  JSON.parse(stdout).failures.map((f: { code: string }) => f.code);

beforeAll(() => {
  keys = join(tempDir(), "keys");
  expect(runCli(["keygen", "--out", keys]).status).toBe(0);
  ({ root, runId, runDir } = demoRun({ args: ["--sign", join(keys, "canon-reason.key")] }));
  signature = JSON.parse(readFileSync(join(runDir, "signature.json"), "utf8"));
});

describe("issue 19 signatures: the CLI", () => {
  it("issue 19 signatures: an honest signed run is 'signed (Ed25519), verified' and passes --require-signature", () => {
    const r = runCli(["verify", runDir, "--require-signature", "--artifacts-dir", root]);
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^Signature: signed \(Ed25519\), verified$/m);
    const pinned = runCli([
      "verify",
      runDir,
      "--require-signature",
      "--pubkey",
      join(keys, "canon-reason.pub"),
      "--artifacts-dir",
      root,
    ]);
    expect(pinned.status, pinned.stdout).toBe(0);
  });

  it("issue 19 signatures: a signature naming the victim's key, carrying none, 64 random bytes fails --require-signature and is 'signed, NOT verified'", () => {
    const forged = forgedRoot(unknownKeyForgery());
    const required = runCli(["verify", forged.runDir, "--require-signature", "--artifacts-dir", forged.root]);
    expect(required.status, required.stdout).toBe(1);
    expect(required.stdout).toMatch(/^Signature: signed, NOT verified/m);
    expect(required.stdout).not.toMatch(/verified$/m);
    const json = runCli([
      "verify",
      forged.runDir,
      "--require-signature",
      "--json",
      "--artifacts-dir",
      forged.root,
    ]);
    expect(codesOf(json.stdout)).toEqual(["SIGNATURE_UNVERIFIED", "SIGNATURE_REQUIRED_UNVERIFIED"]);
    // Without --require-signature: a warning, and still never "verified".
    const plain = runCli(["verify", forged.runDir, "--artifacts-dir", forged.root]);
    expect(plain.status).toBe(0);
    expect(plain.stdout).toMatch(/^Signature: signed, NOT verified/m);
    expect(
      runCli(["verify", forged.runDir, "--policy", "strict", "--artifacts-dir", forged.root]).status,
    ).toBe(1);
    // With the key it names, the random bytes are checked, and fail.
    const keyed = runCli([
      "verify",
      forged.runDir,
      "--pubkey",
      join(keys, "canon-reason.pub"),
      "--json",
      "--artifacts-dir",
      forged.root,
    ]);
    expect(keyed.status).toBe(1);
    expect(codesOf(keyed.stdout)).toEqual(["SIGNATURE_INVALID"]);
  });

  it("issue 19 signatures: an RSA key and signature labelled ed25519 are not reported as Ed25519 verified", () => {
    const { forged, publicPem } = rsaForgery();
    const dir = forgedRoot(forged);
    const r = runCli(["verify", dir.runDir, "--json", "--artifacts-dir", dir.root]);
    expect(r.status, r.stdout).toBe(1);
    expect(codesOf(r.stdout)).toEqual(["SIGNATURE_KEY_TYPE", "SIGNATURE_INVALID"]);
    const text = runCli(["verify", dir.runDir, "--artifacts-dir", dir.root]);
    expect(text.stdout).toMatch(/^Signature: signed, does NOT verify$/m);
    expect(text.stdout).not.toMatch(/Ed25519 signature verified/);
    // An RSA --pubkey is bad input (exit 2), named by path.
    const pub = join(tempDir(), "rsa.pub");
    writeFileSync(pub, publicPem);
    const given = runCli(["verify", dir.runDir, "--pubkey", pub, "--artifacts-dir", dir.root]);
    expect(given.status).toBe(2);
    expect(isCleanError(given)).toBe(true);
    expect(given.stderr).toMatch(/not an Ed25519 public key/);
  });

  it("issue 19 signatures: the report page says 'signed, not verified' for a key it does not have, never 'verified'", () => {
    const forged = forgedRoot(unknownKeyForgery());
    const page = runCli(["report", forged.runDir, "--artifacts-dir", forged.root]);
    expect(page.status, page.stderr).toBe(0);
    expect(page.stdout).toMatch(/signed, not verified/);
    expect(page.stdout).not.toMatch(/signed \(Ed25519\), verified|, verifies/);
    const rsa = forgedRoot(rsaForgery().forged);
    const rsaPage = runCli(["report", rsa.runDir, "--artifacts-dir", rsa.root]);
    expect(rsaPage.stdout).toMatch(/signed, does NOT verify/);
    const honest = runCli(["report", runDir, "--artifacts-dir", root]);
    expect(honest.stdout).toMatch(/signed \(Ed25519\), verified/);
  });
});

describe("issue 19 signatures: the API (POST /v1/runs/{id}/verify)", () => {
  let server: TestServer;
  let forged: { root: string };
  beforeAll(async () => {
    forged = forgedRoot(unknownKeyForgery());
    server = await startServer({ artifactsRoot: forged.root });
  });
  afterAll(() => server.close());

  it("issue 19 signatures: a signature naming a key the service does not have is 'not verified'; require_signature fails it", async () => {
    const plain = await call(server.url, "POST", `/v1/runs/${runId}/verify`);
    expect(plain.status).toBe(200);
    expect(plain.json().signature).toBe("not verified");
    const required = await call(server.url, "POST", `/v1/runs/${runId}/verify`, { require_signature: true });
    expect(required.status).toBe(200);
    expect(required.json()).toMatchObject({ passed: false, signature: "not verified" });
    const page = await call(server.url, "GET", `/v1/runs/${runId}/report`);
    expect(page.text).toMatch(/signed, not verified/);
    // Hostile body: a require_signature that is not a boolean is a 400, never a verdict.
    for (const value of ["yes", 1, null, {}])
      expect(
        (await call(server.url, "POST", `/v1/runs/${runId}/verify`, { require_signature: value })).status,
      ).toBe(400);
  });
});

describe("issue 19 signatures: re-running a signed run without --sign", () => {
  it("issue 19 signatures: re-running a signed run's command without --sign keeps the signed run", () => {
    const copy = tempDir();
    cpSync(root, copy, { recursive: true });
    const dir = join(copy, "runs", runId);
    const before = readFileSync(join(dir, "signature.json"));
    const again = runCli(runArgs(copy));
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/kept with its signature/);
    expect(readFileSync(join(dir, "signature.json"))).toEqual(before);
    expect(runCli(["verify", dir, "--require-signature", "--artifacts-dir", copy]).status).toBe(0);
    expect(readdirSync(join(copy, "runs"))).toEqual([runId]);
  });

  it("issue 19 signatures: an unsigned re-run over a damaged signed run refuses (exit 2) and leaves it in place", () => {
    const copy = tempDir();
    cpSync(root, copy, { recursive: true });
    const dir = join(copy, "runs", runId);
    writeFileSync(join(dir, "answer.json"), "damaged");
    const again = runCli(runArgs(copy));
    expect(again.status).toBe(2);
    expect(isCleanError(again)).toBe(true);
    expect(again.stderr).toMatch(/unsigned run never replaces a signed one/);
    expect(readFileSync(join(dir, "answer.json"), "utf8")).toBe("damaged");
    expect(readFileSync(join(dir, "signature.json"))).toEqual(readFileSync(join(runDir, "signature.json")));
    expect(readdirSync(join(copy, "runs"))).toEqual([runId]);
    // Signing again repairs it.
    const signed = runCli(runArgs(copy, "--sign", join(keys, "canon-reason.key")));
    expect(signed.status, signed.stderr).toBe(0);
    expect(runCli(["verify", dir, "--require-signature", "--artifacts-dir", copy]).status).toBe(0);
  });
});
