// Stalled-job takeover (issue 22, item 4): how long after a worker dies (SIGKILL) or freezes
// (SIGSTOP) with a job in hand another worker takes that job, at `--stall-ms 4000`. A job of
// the llm reasoner is held by worker A on purpose: the scripted endpoint never answers a
// question's first request (so A is mid-job), and answers every later one. Worker B is idle and
// ready. A is killed or stopped at a seeded random moment of its lock's renewal cycle; the time
// measured is from then to B's request for the same question (B has taken the job).
//
// Needs PostgreSQL and Redis (CANON_BENCH_PG, CANON_BENCH_REDIS; defaults 127.0.0.1); uses its
// own scratch database and Redis key prefix. Timings on a shared machine are noisy: the load
// average at start is recorded beside them.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Queue } from "bullmq";
import pg from "pg";
import { CLI, machine, REPO, seededRandom, summarize, writeResult } from "./lib.mjs";

const PG_ADMIN_URL = process.env.CANON_BENCH_PG ?? "postgres://root@127.0.0.1:5432/test";
const REDIS_URL = process.env.CANON_BENCH_REDIS ?? "redis://127.0.0.1:6379";
const STALL_MS = 4000;
const REPEATS = Number(process.env.CANON_BENCH_STALL_REPEATS ?? 4);
const SEED = 22;

async function admin(sql) {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The first request after `hold()`: never answered. Every other one: a grounded quote. */
async function holdingEndpoint() {
  let holding = false;
  const requests = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      const parsed = JSON.parse(body);
      const user = parsed.messages?.find((m) => m.role === "user")?.content ?? "";
      const question = /^Question: (.*)$/m.exec(user)?.[1] ?? "";
      requests.push({ question, at: performance.now() });
      if (holding) {
        holding = false;
        return; // held: the worker is mid-job
      }
      const part = user.split(/\n\n(?=\[\d+\] )/).find((p) => p.startsWith("[1] ")) ?? "";
      const quote = part
        .slice(part.indexOf("\n") + 1)
        .split(/\s+/)
        .slice(0, 8)
        .join(" ");
      const content = JSON.stringify({
        claims: [{ statement: `It says: ${quote}`, citations: [{ evidence: 1, quote }] }],
      });
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          id: "c",
          object: "chat.completion",
          created: 1,
          model: parsed.model,
          choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content } }],
        }),
      );
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    baseUrl: `http://127.0.0.1:${server.address().port}/v1`,
    requests,
    hold: () => {
      holding = true;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

function startWorker(env, registry, dir, baseUrl) {
  // biome-ignore format: one flag and its value per line
  const child = spawn(process.execPath, [
    CLI, "worker", "--queue", REDIS_URL, "--registry", registry, "--artifacts-dir", dir,
    "--model-base-url", baseUrl, "--stall-ms", String(STALL_MS), "--model-timeout", "600000",
  ], { env, stdio: ["ignore", "pipe", "inherit"] });
  const lines = [];
  let buffered = "";
  child.stdout.setEncoding("utf8").on("data", (data) => {
    buffered += data;
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    for (const part of parts) if (part.trim() !== "") lines.push(JSON.parse(part));
  });
  return { child, lines, exited: new Promise((resolve) => child.once("exit", resolve)) };
}

async function until(what, ready, ms = 120_000) {
  const end = performance.now() + ms;
  while (!ready()) {
    if (performance.now() > end) throw new Error(`never happened within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const tag = `${process.pid}_${randomBytes(3).toString("hex")}`;
const database = `cr_bench_stall_${tag}`;
const prefix = `cr-bench-stall-${tag}`;
const registry = Object.assign(new URL(PG_ADMIN_URL), { pathname: `/${database}` }).toString();
const scratch = mkdtempSync(join(tmpdir(), "canon-bench-stall-"));
const env = {
  ...process.env,
  CANON_REASON_QUEUE_PREFIX: prefix,
  CANON_REASON_LLM_API_KEY: "",
  OPENAI_API_KEY: "",
};
const startLoad = loadavg();
const random = seededRandom(SEED);
await admin(`CREATE DATABASE ${database}`);
const endpoint = await holdingEndpoint();
const samples = { SIGKILL: [], SIGSTOP: [] };
try {
  let round = 0;
  for (const signal of ["SIGKILL", "SIGSTOP"])
    for (let r = 0; r < REPEATS; r++, round++) {
      const a = startWorker(env, registry, join(scratch, `a${round}`), endpoint.baseUrl);
      await until("A ready", () => a.lines.some((l) => l.msg === "worker ready"));
      // biome-ignore format: one flag and its value per line
      const evalChild = spawn(process.execPath, [
        CLI, "eval", "--suite", join(REPO, "demo", "suite"), "--limit", "1", "--top-k", String(3 + round),
        "--reasoner", "llm", "--model", "bench-model", "--base-url", endpoint.baseUrl,
        "--queue", REDIS_URL, "--registry", registry, "--artifacts-dir", join(scratch, `s${round}`),
        "--out", join(scratch, `o${round}`), "--json",
      ], { env, stdio: "ignore" });
      const evalDone = new Promise((resolve) => evalChild.once("exit", resolve));
      const before = endpoint.requests.length;
      endpoint.hold();
      await until("A holds the job", () => endpoint.requests.length > before);
      const question = endpoint.requests[before].question;
      const b = startWorker(env, registry, join(scratch, `b${round}`), endpoint.baseUrl);
      await until("B ready", () => b.lines.some((l) => l.msg === "worker ready"));
      // A seeded moment within A's lock renewal cycle (stallMs / 2).
      await new Promise((resolve) => setTimeout(resolve, random() * (STALL_MS / 2)));
      const t0 = performance.now();
      a.child.kill(signal);
      await until("B takes the job", () =>
        endpoint.requests.slice(before + 1).some((q) => q.question === question),
      );
      const t1 = endpoint.requests.slice(before + 1).find((q) => q.question === question).at;
      samples[signal].push(t1 - t0);
      console.error(`stall-bound: ${signal} #${r + 1}: taken over after ${Math.round(t1 - t0)} ms`);
      await evalDone;
      a.child.kill("SIGKILL");
      b.child.kill("SIGTERM");
      await Promise.all([a.exited, b.exited]);
    }
} finally {
  await endpoint.close();
  const { hostname, port } = new URL(REDIS_URL);
  const cleanup = new Queue("canon-reason", {
    connection: { host: hostname, port: Number(port || 6379) },
    prefix,
  });
  await cleanup.obliterate({ force: true });
  await cleanup.close();
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  rmSync(scratch, { recursive: true, force: true });
}
const all = [...samples.SIGKILL, ...samples.SIGSTOP];
const result = {
  bench: "stall-bound",
  machine: { ...machine(), loadavg_at_start: startLoad.map((x) => Math.round(x * 100) / 100) },
  sizes: { stall_ms: STALL_MS, repeats_per_signal: REPEATS },
  seeds: { kill_phase: SEED },
  results: {
    SIGKILL: summarize(samples.SIGKILL),
    SIGSTOP: summarize(samples.SIGSTOP),
  },
  figures: {
    max_over_stall_ms: Math.round((Math.max(...all) / STALL_MS) * 100) / 100,
    min_over_stall_ms: Math.round((Math.min(...all) / STALL_MS) * 100) / 100,
  },
};
console.log(`wrote ${writeResult("stall-bound", result)}`);
