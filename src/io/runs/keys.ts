/** Reading and writing Ed25519 key files; a bad key file is bad input (exit 2), named by path. */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../core/errors.js";
import { atFsBoundary } from "../fs/fs-errors.js";
import { readUserText } from "../fs/user-text.js";

function readKeyFile(path: string): string {
  return readUserText(path, "E_KEY_INVALID");
}

export function readPrivateKey(path: string): string {
  const pem = readKeyFile(path);
  try {
    if (createPrivateKey(pem).asymmetricKeyType !== "ed25519") throw new Error("not an Ed25519 key");
  } catch (error) {
    throw new InputError(
      "E_KEY_INVALID",
      `not an Ed25519 private key in PEM form (${(error as Error).message})`,
      { file: path },
    );
  }
  return pem;
}

export function readPublicKey(path: string): string {
  const pem = readKeyFile(path);
  try {
    if (createPublicKey(pem).asymmetricKeyType !== "ed25519") throw new Error("not an Ed25519 key");
  } catch (error) {
    throw new InputError(
      "E_KEY_INVALID",
      `not an Ed25519 public key in PEM form (${(error as Error).message})`,
      { file: path },
    );
  }
  return pem;
}

export const KEY_FILES = { private: "canon-reason.key", public: "canon-reason.pub" } as const;

export function writeKeyPair(dir: string): { privateKey: string; publicKey: string } {
  const privateKey = join(dir, KEY_FILES.private);
  const publicKey = join(dir, KEY_FILES.public);
  for (const path of [privateKey, publicKey]) {
    if (existsSync(path))
      throw new InputError("E_USAGE", "already exists; refusing to overwrite a key", { file: path });
  }
  const pair = generateKeyPairSync("ed25519");
  atFsBoundary({ code: "E_OUTPUT", doing: "cannot write the key pair", path: dir, field: "--out" }, () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(privateKey, pair.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    writeFileSync(publicKey, pair.publicKey.export({ type: "spki", format: "pem" }));
  });
  return { privateKey, publicKey };
}
