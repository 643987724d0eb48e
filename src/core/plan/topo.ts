/** Deterministic topological order of plan nodes: Kahn's algorithm, ties broken by id. */
import { InputError } from "../errors.js";
import type { PlanNode } from "../models/plan.js";

/** Problems that make a node list not a DAG; empty when it is one. */
export function dagProblems(nodes: readonly PlanNode[]): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const n of nodes) {
    if (ids.has(n.id)) problems.push(`duplicate node id ${n.id}`);
    ids.add(n.id);
  }
  for (const n of nodes) {
    for (const d of n.deps) if (!ids.has(d)) problems.push(`node ${n.id} depends on missing node ${d}`);
  }
  if (problems.length === 0 && topoOrderOrNull(nodes) === null)
    problems.push("the dependencies form a cycle");
  return problems;
}

function topoOrderOrNull(nodes: readonly PlanNode[]): PlanNode[] | null {
  const pending = new Map(nodes.map((n) => [n.id, new Set(n.deps)]));
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const order: PlanNode[] = [];
  while (pending.size > 0) {
    const ready = [...pending].filter(([, deps]) => deps.size === 0).map(([id]) => id);
    if (ready.length === 0) return null;
    ready.sort();
    const next = ready[0] as string;
    pending.delete(next);
    for (const deps of pending.values()) deps.delete(next);
    order.push(byId.get(next) as PlanNode);
  }
  return order;
}

export function topoOrder(nodes: readonly PlanNode[]): PlanNode[] {
  const problems = dagProblems(nodes);
  const order = problems.length === 0 ? topoOrderOrNull(nodes) : null;
  if (order === null)
    throw new InputError("E_PLAN_INVALID", `plan is not a valid DAG: ${problems.join("; ")}`);
  return order;
}
