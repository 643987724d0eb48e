/**
 * The diff page (docs/operations/common-workflows.md, report pages): two runs side by side, opening on the first layer `diff` names as
 * changed, with the changed documents, the two rankings and the two answers. Pure.
 */
import type { RunView } from "../artifact/view.js";
import type { JsonValue } from "../canonical.js";
import type { LayerDiff, RunDiff } from "../diff/diff.js";
import { clip, num, shell } from "./common.js";
import { type Html, html, type RenderedPage } from "./html.js";

export interface DiffPageInput {
  a: RunView;
  b: RunView;
  diff: RunDiff;
}

const runIdOf = (view: RunView) => view.run?.run_id ?? view.trace?.header.run_id ?? "(unknown run)";
const shown = (value: JsonValue | null) => clip(JSON.stringify(value) ?? "(absent)", 600);

function changesTable(layer: LayerDiff): Html {
  if (layer.changes.length === 0) return html`<p class="muted">No change.</p>`;
  return html`<table><thead><tr><th>field</th><th>A</th><th>B</th></tr></thead><tbody>${layer.changes.map(
    (c) =>
      html`<tr><td class="mono">${c.field}</td><td class="mono">${shown(c.before)}</td><td class="mono">${shown(c.after)}</td></tr>`,
  )}</tbody></table>`;
}

function list(label: string, values: JsonValue | undefined): Html | null {
  if (!Array.isArray(values) || values.length === 0) return null;
  return html`<p><strong>${label}:</strong> ${values.map((v, i) => html`${i > 0 ? ", " : ""}<code>${String(v)}</code>`)}</p>`;
}

function detail(layer: LayerDiff): Html | null {
  const d = layer.detail;
  if (d === undefined) return null;
  if (layer.layer === "corpus") {
    if (d.documents_compared === false)
      return html`<p class="note">Documents not compared: ${String(d.reason)}.</p>`;
    return html`<div id="changed-documents">${list("documents added", d.added)}${list("documents removed", d.removed)}${list("documents changed", d.changed)}</div>`;
  }
  const moved = Array.isArray(d.moved) ? (d.moved as Array<Record<string, JsonValue>>) : [];
  return html`${list("chunks gained", d.gained)}${list("chunks lost", d.lost)}${
    moved.length > 0
      ? html`<table><thead><tr><th>chunk</th><th class="num">rank A</th><th class="num">rank B</th><th class="num">score change</th></tr></thead><tbody>${moved.map(
          (m) =>
            html`<tr><td class="mono">${String(m.chunk)}</td><td class="num">${String(m.rank_before)}</td><td class="num">${String(m.rank_after)}</td><td class="num">${String(m.score_delta)}</td></tr>`,
        )}</tbody></table>`
      : null
  }`;
}

function answerColumn(label: string, view: RunView): Html {
  const a = view.answer;
  const body =
    a === null
      ? html`<p class="note">answer.json is unreadable.</p>`
      : html`<p><strong>Question:</strong> ${a.question}</p>${
          a.status === "answered"
            ? html`<p class="answer">${a.answer ?? ""}</p><p>confidence ${num(a.claims[0]?.confidence)}</p>`
            : html`<p class="answer insufficient"><strong>Insufficient evidence.</strong> ${a.uncertainty ?? ""}</p>`
        }${a.claims.flatMap((c) => c.citations).map((c) => html`<blockquote><q>${c.quote}</q><div class="muted">${c.doc_id}, bytes ${c.doc_span[0]}–${c.doc_span[1]}</div></blockquote>`)}`;
  return html`<div><h3>${label}</h3>${body}</div>`;
}

function rankingColumn(label: string, view: RunView, other: RunView): Html {
  const key = (h: { doc_id: string; span: readonly [number, number] }) =>
    `${h.doc_id}@${h.span[0]}-${h.span[1]}`;
  const theirs = new Map((other.retrieval?.hits ?? []).map((h) => [key(h), h]));
  const rows = (view.retrieval?.hits ?? []).map((h) => {
    const o = theirs.get(key(h));
    const changed = o === undefined || o.rank !== h.rank || o.score !== h.score;
    return html`<tr class="${changed ? "regressed" : ""}"><td class="num">${h.rank}</td><td>${h.doc_id}<div class="muted mono">${h.span[0]}–${h.span[1]}</div></td><td class="num">${num(h.score, 6)}</td><td>${o === undefined ? "only here" : changed ? `was rank ${o.rank}` : ""}</td></tr>`;
  });
  return html`<div><h3>${label}</h3>${
    view.retrieval === null
      ? html`<p class="muted">No retrieval recorded.</p>`
      : html`<p>Query <q>${view.retrieval.query}</q></p><table><thead><tr><th class="num">rank</th><th>document</th><th class="num">score</th><th></th></tr></thead><tbody>${rows}</tbody></table>`
  }</div>`;
}

export function renderDiffPage(input: DiffPageInput): RenderedPage {
  const { a, b, diff } = input;
  const first = diff.layers.find((l) => l.layer === diff.first_layer);
  const heading = html`<h1>Diff of two runs ${diff.identical ? html`<span class="badge pass">IDENTICAL</span>` : html`<span class="badge fail">DIFFERENT</span>`}</h1>
<div>A <span class="id">${runIdOf(a)}</span></div><div>B <span class="id">${runIdOf(b)}</span></div>`;
  const strip = html`<section id="layers"><h2>Layers, in pipeline order</h2><table><tbody>${diff.layers.map(
    (l) =>
      html`<tr class="${l.layer === diff.first_layer ? "failed" : l.changed ? "regressed" : ""}"><td><a href="#layer-${l.layer}">${l.layer}</a></td><td>${l.layer === diff.first_layer ? html`<span class="fail">first changed layer</span>` : l.changed ? "changed as a consequence" : html`<span class="muted">same</span>`}</td></tr>`,
  )}</tbody></table></section>`;
  const opening =
    first === undefined
      ? html`<section id="first-changed"><h2>Every layer matches</h2><p>The two runs are identical in every layer diff compares.</p></section>`
      : html`<section id="first-changed"><h2 id="layer-${first.layer}">First changed layer: ${first.layer}</h2>
<p>Everything upstream of <strong>${first.layer}</strong> is the same; ${diff.consequences.length === 0 ? "nothing downstream changed." : html`changed as a consequence: ${diff.consequences.join(", ")}.`}</p>
${changesTable(first)}${detail(first)}</section>`;
  const corpus = diff.layers.find((l) => l.layer === "corpus" && l.changed && l !== first);
  const sideBySide = html`${corpus === undefined ? null : html`<section id="documents"><h2>Changed documents</h2>${detail(corpus)}</section>`}
<section id="answers"><h2>Answers</h2><div class="cols">${answerColumn("A", a)}${answerColumn("B", b)}</div></section>
<section id="rankings"><h2>Rankings</h2><div class="cols">${rankingColumn("A", a, b)}${rankingColumn("B", b, a)}</div></section>`;
  const others = diff.layers
    .filter((l) => l !== first)
    .map(
      (l) =>
        html`<details id="layer-${l.layer}"${l.changed ? html` class="changed"` : null}><summary>${l.layer}: ${l.changed ? html`<span class="fail">changed</span>` : html`<span class="muted">same</span>`}</summary>${changesTable(l)}${detail(l)}</details>`,
    );
  return shell(
    `canon-reason diff: ${diff.first_layer === null ? "identical" : `first changed layer ${diff.first_layer}`}`,
    heading,
    html`${opening}${sideBySide}${strip}<section id="all-layers"><h2>Every layer</h2>${others}</section>`,
  );
}
