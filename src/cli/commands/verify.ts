/** `canon-reason verify` and `keygen`: recompute everything about a run and judge it (docs/design.md §5). */
import type { Command } from "commander";
import { readPublicKey, writeKeyPair } from "../../app/store/keys.js";
import {
  describeChecks,
  type SignatureState,
  signatureState,
  verifyRunDirectory,
} from "../../app/verify/verify.js";
import { InputError } from "../../core/errors.js";
import { POLICIES, type Policy, type VerificationReport } from "../../core/models/verification-report.js";
import { renderVerdict } from "../render.js";
import { action, printJson, resolveRun, withRegistry } from "../shared.js";

interface VerifyOptions {
  policy: string;
  pubkey?: string;
  requireSignature?: boolean;
  artifactsDir?: string;
  registry?: string;
  json?: boolean;
}

/** How the CLI words each signature state: a signature whose key is not at hand is never "verified". */
const SIGNATURE_WORDS: Record<SignatureState, string> = {
  unsigned: "unsigned",
  verified: "signed (Ed25519), verified",
  "not verified": "signed, NOT verified (the key it names is neither carried nor given: --pubkey)",
  invalid: "signed, does NOT verify",
};

export function renderReport(report: VerificationReport, runDir: string): string {
  const rows = report.checks.map(
    (c) =>
      `  ${(c.passed ? "pass" : "FAIL").padEnd(5)} ${c.name.padEnd(21)} ${c.invariant.padEnd(16)} ${c.details}`,
  );
  const findings = report.failures.map(
    (f) => `  [${f.severity}] ${f.check} (${f.invariant}) ${f.code}: ${f.message}`,
  );
  return [
    `Run: ${runDir}`,
    "",
    `  ${"".padEnd(5)} ${"check".padEnd(21)} ${"invariant".padEnd(16)} details`,
    ...rows,
    ...(findings.length > 0 ? ["", "Findings:", ...findings] : []),
    "",
    `Signature: ${SIGNATURE_WORDS[signatureState(report.checks)]}`,
    `Verdict: ${renderVerdict(report)}`,
    "",
  ].join("\n");
}

export function registerVerify(program: Command): void {
  const checks = describeChecks()
    .map((c) => `  ${c.name.padEnd(21)} ${c.invariant.padEnd(16)} ${c.description}`)
    .join("\n");
  withRegistry(
    program
      .command("verify")
      .description("recompute every id, hash and cited byte of a run and check every invariant of its checks")
      .argument("<run>", "a run directory or a run id under the artifacts root")
      .option(
        "--policy <mode>",
        "strict (warnings fail too), audit (errors fail) or permissive (warnings hidden)",
        "audit",
      )
      .option("--pubkey <file>", "Ed25519 public key (PEM); the run must carry a valid signature by it")
      .option(
        "--require-signature",
        "fail unless the run's signature is verified: against --pubkey, or else the Ed25519 key it carries; a signature naming a key that is neither is 'signed, not verified' and fails",
      )
      .option(
        "--artifacts-dir <dir>",
        "artifacts root (its store holds the corpus snapshot and index)",
        ".canon-reason",
      ),
  )
    .option("--json", "print the verification report as JSON")
    .addHelpText(
      "after",
      `\nChecks:\n${checks}\n\nThe index is rebuilt from the snapshot and compared, unless a rebuild that agreed is recorded on\nthis machine (an HMAC under the key in $CANON_REASON_STATE_DIR, else ~/.local/state/canon-reason;\ndocs/design.md §5); --policy strict always rebuilds.\n\nExit codes: 0 pass, 1 a check failed, 2 not a run or bad input.`,
    )
    .action(
      action(async (ref: string, o: VerifyOptions) => {
        if (!(POLICIES as readonly string[]).includes(o.policy)) {
          throw new InputError("E_USAGE", `unknown policy "${o.policy}" (known: ${POLICIES.join(", ")})`, {
            field: "--policy",
          });
        }
        const { runDir, storeRoot } = await resolveRun(ref, o);
        const pem = o.pubkey === undefined ? undefined : readPublicKey(o.pubkey);
        const report = verifyRunDirectory(runDir, {
          policy: o.policy as Policy,
          storeRoot,
          ...(pem === undefined ? {} : { publicKeyPem: pem }),
          ...(o.requireSignature ? { requireSignature: true } : {}),
        });
        if (o.json) printJson(report);
        else process.stdout.write(renderReport(report, runDir));
        return report.verdict === "pass" ? 0 : 1;
      }),
    );
  program
    .command("keygen")
    .description("make an Ed25519 key pair for signing runs (run --sign KEY, verify --pubkey PUB)")
    .requiredOption("--out <dir>", "folder for canon-reason.key (private, mode 0600) and canon-reason.pub")
    .action(
      action((o: { out: string }) => {
        const written = writeKeyPair(o.out);
        process.stdout.write(`private key  ${written.privateKey}\npublic key   ${written.publicKey}\n`);
        return 0;
      }),
    );
}
