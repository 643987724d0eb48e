/**
 * The run registry as the edges reach it. registry/ is infrastructure below app/, like io/:
 * an edge opens, passes and closes a registry through this module and never names the SQLite
 * or PostgreSQL implementation's module itself.
 */
export {
  checkRegistryUrl,
  DATABASE_URL_ENV,
  openSharedRegistry,
  registryCacheRoot,
  registryUrlOf,
} from "../registry/open.js";
export type { PublishRequest } from "../registry/pg-publish.js";
export type { PgRegistry } from "../registry/postgres.js";
export {
  CURSOR_PATTERN,
  ITEM_ID_PATTERN,
  type Item,
  type Registry,
} from "../registry/run-registry.js";
