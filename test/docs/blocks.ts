/**
 * The fenced blocks of a Markdown page, for the docs test (test/docs/operations.test.ts). The
 * info string says what the test does with a block:
 *
 * - `sh`: run in bash (`set -eo pipefail`) in the sandbox; a `text` block right after it (only
 *   blank lines between) is its expected output.
 * - `console`: each `$ command` line is run (stderr merged into stdout, exit status shown only
 *   through the output), and the lines after it, up to the next `$ `, are its expected output.
 * - `sh host`: only makes sense on a real host (a global install, PostgreSQL, a model endpoint):
 *   checked by a validator, not run: bash syntax, and every `canon-reason <command> --flag` must
 *   be a command and a flag that command's `--help` lists.
 * - `ini systemd`, `nginx`: host configuration, checked by validators (see the test).
 * - `json`, `js`: parsed / syntax-checked. `text`, `mermaid` and others: shown only.
 *
 * In expected output, a line that is exactly `…` matches any number of lines.
 */

export interface Block {
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  tags: string[];
  content: string;
  /** For a `sh` block: the `text` block that follows it, if any. */
  output?: string;
}

export function fencedBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const open = /^(\s*)(`{3,})(.*)$/.exec(lines[i] as string);
    if (open === null) {
      i++;
      continue;
    }
    const indent = (open[1] as string).length;
    const fence = open[2] as string;
    const [lang = "", ...tags] = (open[3] as string)
      .trim()
      .split(/\s+/)
      .filter((w) => w !== "");
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !new RegExp(`^\\s*${fence}\\s*$`).test(lines[j] as string)) {
      const l = lines[j] as string;
      body.push(l.slice(Math.min(indent, l.length - l.trimStart().length)));
      j++;
    }
    blocks.push({ line: i + 1, lang, tags, content: body.join("\n") });
    i = j + 1;
    // A text block right after a sh block (blank lines between) is its output.
    const prev = blocks[blocks.length - 2];
    const last = blocks[blocks.length - 1] as Block;
    if (last.lang === "text" && prev !== undefined && prev.lang === "sh" && prev.tags.length === 0) {
      const between = lines.slice(prev.line, last.line - 1);
      const closeOfPrev = between.findIndex((l, k) => k > 0 && /^\s*`{3,}\s*$/.test(l));
      if (between.slice(closeOfPrev + 1).every((l) => l.trim() === "")) {
        prev.output = last.content;
        last.tags = [...last.tags, "output"];
      }
    }
  }
  return blocks;
}

/** The commands of a console block and the output shown after each. */
export function consoleSteps(content: string): { command: string; expected: string }[] {
  const steps: { command: string; expected: string[] }[] = [];
  for (const line of content.split("\n")) {
    if (line.startsWith("$ ")) steps.push({ command: line.slice(2), expected: [] });
    else steps[steps.length - 1]?.expected.push(line);
  }
  return steps.map((s) => ({ command: s.command, expected: s.expected.join("\n") }));
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Whether output matches what a page shows: line by line, `…` lines matching any lines. */
export function outputMatches(actual: string, expected: string): boolean {
  const want = expected.replace(/\s+$/, "").split("\n");
  const pattern = want
    .map((l) => (l.trim() === "…" ? "(?:[^\\n]*\\n)*?" : `${escapeRegExp(l.trimEnd())}\\n`))
    .join("");
  const got = `${actual
    .replace(/\s+$/, "")
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")}\n`;
  return new RegExp(`^${pattern}$`).test(got);
}

/** `canon-reason <command> [--flags]` invocations in shell text (comments removed). */
export function invocations(shell: string): { command: string; flags: string[] }[] {
  const found: { command: string; flags: string[] }[] = [];
  const joined = shell
    .split("\n")
    .map((l) => l.replace(/(^|\s)#.*$/, ""))
    .join("\n")
    .replace(/\\\n/g, " ");
  for (const line of joined.split("\n")) {
    for (const m of line.matchAll(/(?:^|[\s/"'])canon-reason(?:\.js)?"?\s+([a-z][a-z-]*)([^|;&]*)/g)) {
      const flags = [...(m[2] as string).matchAll(/(?:^|\s)(--[a-z][a-z0-9-]*)/g)].map((f) => f[1] as string);
      found.push({ command: m[1] as string, flags });
    }
  }
  return found;
}
