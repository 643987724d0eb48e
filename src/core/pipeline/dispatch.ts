/** Tool dispatch: live (tools run) and frozen (results served from a recorded trace). */
import type { JsonValue } from "../canonical.js";
import type { ToolCall, ToolResult, Trace } from "../models/trace.js";
import type { ToolDispatcher } from "./executor.js";

export type ToolHandler = (args: Record<string, JsonValue>) => unknown;

/** Runs each call against its handler; a thrown error becomes a failed result, not a crash. */
export function liveDispatcher(handlers: Readonly<Record<string, ToolHandler>>): ToolDispatcher {
  return {
    dispatch(call: ToolCall): ToolResult {
      const handler = handlers[call.tool];
      if (handler === undefined) return { call_id: call.id, ok: false, error: `unknown tool "${call.tool}"` };
      try {
        return {
          call_id: call.id,
          ok: true,
          payload: handler(call.args as Record<string, JsonValue>) as JsonValue,
        };
      } catch (error) {
        return { call_id: call.id, ok: false, error: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}

/**
 * Serves results recorded in a trace, looked up by the content id of the call (docs/design.md §6).
 * A call that was never recorded fails, naming the call, so replay cannot silently diverge.
 */
export function frozenDispatcher(recorded: Trace): ToolDispatcher {
  const results = new Map<string, ToolResult>();
  for (const e of recorded.events) if (e.type === "tool_returned") results.set(e.result.call_id, e.result);
  return {
    dispatch(call: ToolCall): ToolResult {
      return (
        results.get(call.id) ?? {
          call_id: call.id,
          ok: false,
          error: `no recorded result for call ${call.id} (${call.tool}): the plan or its arguments changed`,
        }
      );
    },
  };
}
