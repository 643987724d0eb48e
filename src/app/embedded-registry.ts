/**
 * The embedded SQLite registry (`registry.sqlite` under the artifacts root), the default when no
 * PostgreSQL URL is given. Its own module, loaded only by the commands that open it: the native
 * SQLite library stays out of every other command's start.
 */
export { REGISTRY_FILE, SqliteRegistry } from "../registry/sqlite.js";
