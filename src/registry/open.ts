/**
 * Which registry a command uses: the embedded SQLite one by default, or a shared PostgreSQL one
 * named by `--registry postgres://…` or CANON_REASON_DATABASE_URL. The URL is checked before
 * anything connects; the `pg` client loads only when one is given.
 */
import { join } from "node:path";
import { InputError } from "../core/errors.js";
import type { PgRegistry } from "./postgres.js";

export const DATABASE_URL_ENV = "CANON_REASON_DATABASE_URL";
/** A URL longer than this is a mistake, not a registry. */
const MAX_URL_CHARS = 4096;

/**
 * The registry URL from the flag, else the environment, checked; undefined for the embedded
 * default. Checked here so a bad URL is refused by every command, not only where it connects.
 */
export function registryUrlOf(option: string | undefined): string | undefined {
  const value = option ?? process.env[DATABASE_URL_ENV];
  if (value === undefined || value === "") return undefined;
  checkRegistryUrl(value);
  return value;
}

/** A postgres:// URL naming a host and a database, or bad input saying what is wrong with it. */
export function checkRegistryUrl(url: string): void {
  const bad = (why: string) =>
    new InputError("E_REGISTRY_URL", `${why} (expected postgres://USER@HOST:PORT/DATABASE)`, {
      field: `--registry or ${DATABASE_URL_ENV}`,
    });
  if (url.length > MAX_URL_CHARS) throw bad(`the registry URL is longer than ${MAX_URL_CHARS} characters`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad("the registry is not a URL");
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:")
    throw bad(`a registry URL must start with postgres://, not ${parsed.protocol}//`);
  if (parsed.hostname === "" && !parsed.searchParams.has("host")) throw bad("the registry URL names no host");
  if (parsed.pathname.replace(/^\//, "") === "") throw bad("the registry URL names no database");
}

/** Connects to the shared registry (migrating it), after checking the URL. */
export async function openSharedRegistry(url: string): Promise<PgRegistry> {
  checkRegistryUrl(url);
  const { PgRegistry } = await import("./postgres.js");
  return PgRegistry.connect(url);
}

/** Where runs read from a shared registry are materialized: beside, never inside, runs/. */
export function registryCacheRoot(artifactsRoot: string): string {
  return join(artifactsRoot, "registry-cache");
}
