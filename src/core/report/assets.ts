/**
 * The one stylesheet and the one script every report page carries inline. Constants, so their
 * CSP hashes are too; the script reads the page's data- attributes and never receives run text.
 */

export const STYLE = `
:root{--fg:#1b1f24;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--soft:#f6f8fa;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--mark:#fff1a8;--accent:#0969da}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header.top{padding:16px 24px;border-bottom:1px solid var(--line);background:var(--soft)}
header.top h1{margin:0;font-size:20px}
main{padding:8px 24px 48px;max-width:1200px}
section{margin:20px 0;padding-top:4px}
h2{font-size:17px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:14px 0 6px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
.muted{color:var(--muted)}
.id{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
.pass{color:var(--ok);font-weight:600}
.fail{color:var(--bad);font-weight:700}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:700;border:1px solid currentColor}
.alert{border:2px solid var(--bad);background:#ffebe9;padding:10px 14px;border-radius:6px;color:var(--bad);font-weight:700}
.note{border-left:4px solid var(--warn);background:#fff8c5;padding:8px 12px}
.answer{font-size:17px;border-left:4px solid var(--accent);padding:6px 12px;background:var(--soft)}
.insufficient{border-left-color:var(--warn)}
table{border-collapse:collapse;width:100%;margin:6px 0}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td{background:#ffebe9}
tr.regressed td{background:#fff8c5}
dl.kv{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:2px 16px;margin:6px 0}
dl.kv dt{color:var(--muted)}
dl.kv dd{margin:0;overflow-wrap:anywhere}
.citation{border:1px solid var(--line);border-radius:6px;padding:8px 12px;margin:10px 0}
.chunk{white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:13px;background:var(--soft);padding:8px;border-radius:4px;overflow-wrap:anywhere}
@media screen{.chunk{max-height:22em;overflow:auto}}
mark{background:var(--mark);outline:1px solid #d4a72c;padding:0}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.cols>div{min-width:0}
details{margin:6px 0}
summary{cursor:pointer}
ol.timeline{list-style:none;padding-left:0}
ol.timeline li{padding:2px 0;border-bottom:1px dotted var(--line)}
meter{width:160px;vertical-align:middle}
nav.toc a{margin-right:12px}
.controls{display:flex;gap:16px;flex-wrap:wrap;align-items:center;margin:8px 0}
th button{font:inherit;background:none;border:0;padding:0;cursor:pointer;color:inherit}
th button::after{content:" \\2195";color:var(--muted)}
@media print{header.top{background:none}.controls,nav.toc{display:none}.cols{grid-template-columns:1fr 1fr}}
`;

/**
 * Progressive enhancement only: every page reads fully without it (and in print). It opens all
 * <details> for printing, scrolls each evidence chunk to its highlight, and sorts and filters
 * the eval page's case table.
 */
export const SCRIPT = `
"use strict";
addEventListener("beforeprint", function () {
  document.querySelectorAll("details").forEach(function (d) { d.open = true; });
});
document.querySelectorAll(".chunk").forEach(function (chunk) {
  var mark = chunk.querySelector("mark");
  if (mark && chunk.scrollHeight > chunk.clientHeight) chunk.scrollTop = Math.max(0, mark.offsetTop - chunk.offsetTop - 40);
});
(function () {
  var table = document.getElementById("cases");
  if (!table) return;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var filter = document.getElementById("filter");
  var threshold = document.getElementById("ndcg-threshold");
  var search = document.getElementById("search");
  var count = document.getElementById("shown");
  function keep(row) {
    var f = filter.value;
    var limit = Number(threshold.value);
    var ndcg = row.getAttribute("data-ndcg_at_10");
    if (f === "failed" && row.getAttribute("data-verdict") !== "fail") return false;
    if (f === "insufficient" && row.getAttribute("data-status") !== "insufficient_evidence") return false;
    if (f === "low-ndcg" && (ndcg === "" || !(Number(ndcg) < limit))) return false;
    if (f === "regressed" && row.getAttribute("data-regressed") !== "1") return false;
    var q = search.value.trim().toLowerCase();
    return q === "" || row.getAttribute("data-case").toLowerCase().indexOf(q) >= 0;
  }
  function apply() {
    var shown = 0;
    rows.forEach(function (row) { var k = keep(row); row.hidden = !k; if (k) shown++; });
    count.textContent = String(shown);
  }
  [filter, threshold, search].forEach(function (el) { el.addEventListener("input", apply); el.addEventListener("change", apply); });
  var current = null;
  table.querySelectorAll("th button[data-sort]").forEach(function (button) {
    button.addEventListener("click", function () {
      var key = button.getAttribute("data-sort");
      var numeric = button.getAttribute("data-type") === "number";
      var dir = current && current.key === key && current.dir === 1 ? -1 : 1;
      current = { key: key, dir: dir };
      table.querySelectorAll("th").forEach(function (th) { th.removeAttribute("aria-sort"); });
      button.parentElement.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      // Keys are read once per row, not once per comparison; rows without a value go last.
      var keyed = rows.map(function (row, i) { return { row: row, i: i, v: row.getAttribute("data-" + key) }; });
      keyed.sort(function (a, b) {
        var x = a.v, y = b.v;
        if (numeric) {
          if (x === "" || y === "") return x === y ? a.i - b.i : x === "" ? 1 : -1;
          return (Number(x) - Number(y)) * dir || a.i - b.i;
        }
        return x < y ? -dir : x > y ? dir : a.i - b.i;
      });
      rows = keyed.map(function (k) { return k.row; });
      var fragment = document.createDocumentFragment();
      rows.forEach(function (row) { fragment.appendChild(row); });
      body.appendChild(fragment);
    });
  });
  apply();
})();
`;
