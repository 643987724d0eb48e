/**
 * Which index parameter sets the service builds for a corpus (issue 21, item 3). Every distinct
 * set (chunk_chars, overlap_chars, analyzer, k1, b, titles) is a full index build and a new
 * store object, so a client varying them could make the server build without end. The operator
 * decides:
 *
 * - the sets of the presets (`default`, `quick`, `thorough`) are always built;
 * - `allow`: sets the operator lists (`serve --index-params chunk_chars=800,overlap_chars=100`,
 *   repeatable; keys not given match anything) are always built;
 * - any other set counts against `quota` per corpus snapshot (`serve --index-quota N`, default
 *   4; 0: none beyond the presets and the allow-list). A set counted once stays allowed for that
 *   snapshot: it is recorded as `store/index-sets/<snapshot>/<sha256 of the set>`, so the quota
 *   holds across restarts; `canon-reason gc --prune-cache` removes the records of sets whose
 *   index it removed.
 *
 * A set beyond both is refused, before anything is built, with E_INDEX_PARAMS_REFUSED (403)
 * naming what is allowed.
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalJson, sha256Hex } from "../../core/canonical.js";
import { CanonError } from "../../core/errors.js";
import { PRESETS, resolveParams } from "../../core/plan/planner.js";
import { INDEX_PARAM_KEYS, type IndexParams, pickIndexParams } from "../../core/retrieval/index-params.js";

export const DEFAULT_INDEX_QUOTA = 4;

export interface IndexPolicyOptions {
  allow?: ReadonlyArray<Partial<IndexParams>>;
  quota?: number;
}

/** `chunk_chars=800,overlap_chars=100` as a partial parameter set; bad input names the flag. */
export function parseIndexParams(text: string, field = "--index-params"): Partial<IndexParams> {
  const out: Record<string, string | number | boolean> = {};
  for (const pair of text.split(",")) {
    const [key, value, ...rest] = pair.split("=").map((s) => s.trim());
    if (key === undefined || value === undefined || value === "" || rest.length > 0)
      throw new CanonError("E_USAGE", `expected key=value[,key=value…], got ${JSON.stringify(pair)}`, {
        where: { field },
      });
    if (!(INDEX_PARAM_KEYS as readonly string[]).includes(key))
      throw new CanonError(
        "E_USAGE",
        `unknown index parameter ${key} (known: ${INDEX_PARAM_KEYS.join(", ")})`,
        {
          where: { field },
        },
      );
    if (key === "analyzer") out[key] = value;
    else if (key === "index_titles") {
      if (value !== "true" && value !== "false")
        throw new CanonError("E_USAGE", `${key} must be true or false`, { where: { field } });
      out[key] = value === "true";
    } else {
      const n = Number(value);
      if (!Number.isFinite(n))
        throw new CanonError("E_USAGE", `${key} must be a number`, { where: { field } });
      out[key] = n;
    }
  }
  return out as Partial<IndexParams>;
}

const matches = (params: IndexParams, entry: Partial<IndexParams>) =>
  Object.entries(entry).every(([k, v]) => params[k as keyof IndexParams] === v);

/** The index parameter sets of every preset on a spec that sets none. */
function presetSets(): IndexParams[] {
  const spec = { version: "1", description: "x", constraints: {} } as Parameters<typeof resolveParams>[0];
  return Object.keys(PRESETS).map((preset) => pickIndexParams(resolveParams(spec, preset)));
}

export class IndexPolicy {
  readonly quota: number;
  private readonly allow: ReadonlyArray<Partial<IndexParams>>;
  private readonly presets = presetSets();

  constructor(options: IndexPolicyOptions = {}) {
    this.quota = options.quota ?? DEFAULT_INDEX_QUOTA;
    this.allow = options.allow ?? [];
  }

  /** The folder recording the quota-counted sets of one snapshot. */
  static setsDir(storeRoot: string, snapshot: string): string {
    return join(storeRoot, "index-sets", snapshot);
  }

  /** Throws E_INDEX_PARAMS_REFUSED unless this set may be built (or loaded) for this snapshot. */
  admit(storeRoot: string, snapshot: string, params: IndexParams): void {
    if (this.presets.some((p) => canonicalJson(p) === canonicalJson(params))) return;
    if (this.allow.some((entry) => matches(params, entry))) return;
    const dir = IndexPolicy.setsDir(storeRoot, snapshot);
    const name = sha256Hex(canonicalJson(params));
    let known: string[] = [];
    try {
      known = readdirSync(dir).filter((n) => /^[0-9a-f]{64}$/.test(n));
    } catch {
      known = [];
    }
    if (known.includes(name)) return;
    if (known.length < this.quota) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, name), `${canonicalJson(params)}\n`);
      return;
    }
    const allowed = this.allow.map((e) => canonicalJson(e)).join("; ");
    throw new CanonError(
      "E_INDEX_PARAMS_REFUSED",
      `this server builds at most ${this.quota} index parameter sets per corpus beyond the presets${allowed === "" ? "" : ` and ${allowed}`}, and this corpus has them all: use a preset's chunking (omit chunk_chars and overlap_chars) or one of the sets already built`,
      { where: { field: "spec.constraints" } },
    );
  }
}
