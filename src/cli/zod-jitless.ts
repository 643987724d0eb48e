/**
 * Turns zod's JIT off for a one-shot command. A module of its own, imported lazily, so `--help`
 * loads no zod, and naming `config` alone (not the namespace) lets the bundle keep only the parts
 * of zod the commands use.
 */
import { config } from "zod";

export function zodJitless(): void {
  config({ jitless: true });
}
