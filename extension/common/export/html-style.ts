// Page styles of the exported HTML: light and dark palettes (system choice, or the toggle's), and
// a print layout on white paper.

const LIGHT = `
  --ts-bg: #ffffff; --ts-surface: #f6f8fa; --ts-fg: #1f2328; --ts-muted: #59636e; --ts-grid: #d0d7de;
  --ts-focus: #0969da; --ts-execution: #0072b2; --ts-reflection: #c17d00; --ts-transition: #b8578f;
  --ts-unclassified: #8c959f; --ts-warn: #cf222e; --ts-floor-band: rgba(207, 34, 46, 0.10);
  --ts-heat-negative: #b2182b; --ts-heat-positive: #2166ac; --ts-tint: 13%;
  color-scheme: light;`;
const DARK = `
  --ts-bg: #0d1117; --ts-surface: #161b22; --ts-fg: #e6edf3; --ts-muted: #9198a1; --ts-grid: #30363d;
  --ts-focus: #4493f8; --ts-execution: #56b4e9; --ts-reflection: #e69f00; --ts-transition: #e08cc0;
  --ts-unclassified: #8b949e; --ts-warn: #ff7b72; --ts-floor-band: rgba(255, 123, 114, 0.14);
  --ts-heat-negative: #f4845f; --ts-heat-positive: #5aa9e6; --ts-tint: 22%;
  color-scheme: dark;`;

export const PAGE_CSS = `
:root {${LIGHT} }
@media (prefers-color-scheme: dark) { :root:not([data-theme="light"]) {${DARK} } }
:root[data-theme="dark"] {${DARK} }
* { box-sizing: border-box; }
body { margin: 0; background: var(--ts-bg); color: var(--ts-fg); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { padding: 20px 28px 12px; border-bottom: 1px solid var(--ts-grid); display: flex; gap: 16px; align-items: flex-start; }
header .title { flex: 1; min-width: 0; }
h1 { font-size: 20px; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 15px; margin: 0 0 10px; }
.meta { margin: 0; color: var(--ts-muted); font-size: 12.5px; overflow-wrap: anywhere; }
.meta > span + span::before { content: " · "; }
main { padding: 16px 28px 40px; max-width: 1280px; }
section { margin-bottom: 28px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
figure { margin: 0; padding: 12px 14px; background: var(--ts-surface); border: 1px solid var(--ts-grid); border-radius: 8px; min-width: 0; }
figure.wide { grid-column: 1 / -1; }
figcaption { font-weight: 600; font-size: 13px; margin-bottom: 6px; display: flex; justify-content: space-between; gap: 8px; align-items: center; }
figcaption small { font-weight: 400; color: var(--ts-muted); }
.chart-empty { color: var(--ts-muted); font-size: 12.5px; }
select { max-width: 55%; text-overflow: ellipsis; }
select, button { font: inherit; font-size: 12px; color: var(--ts-fg); background: var(--ts-bg); border: 1px solid var(--ts-grid); border-radius: 6px; padding: 3px 8px; }
button { cursor: pointer; }
button:focus-visible, select:focus-visible { outline: 2px solid var(--ts-focus); outline-offset: 1px; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; font-size: 12.5px; color: var(--ts-muted); margin: 0 0 10px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.ts-text { margin: 0; padding: 16px 18px; background: var(--ts-surface); border: 1px solid var(--ts-grid); border-radius: 8px; white-space: pre-wrap; overflow-wrap: anywhere; font: 13.5px/1.75 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; unicode-bidi: isolate; }
.ts-step { background: color-mix(in srgb, var(--ts-class) var(--ts-tint), transparent); border-bottom: 2px solid var(--ts-class); border-radius: 3px; padding: 1px 0; cursor: pointer; -webkit-box-decoration-break: clone; box-decoration-break: clone; }
.ts-step::before { content: attr(data-badge); font: 600 10.5px/1 system-ui, sans-serif; color: var(--ts-bg); background: var(--ts-class); border-radius: 3px; padding: 2px 5px; margin-right: 6px; vertical-align: 1px; white-space: nowrap; }
.ts-execution { --ts-class: var(--ts-execution); }
.ts-reflection { --ts-class: var(--ts-reflection); }
.ts-transition { --ts-class: var(--ts-transition); }
.ts-unclassified { --ts-class: var(--ts-unclassified); }
.legend i { background: var(--ts-class); }
.ts-step:hover, .ts-step:focus-visible, .ts-step.ts-active { outline: 2px solid var(--ts-class); outline-offset: 1px; }
.ts-step.ts-active { background: color-mix(in srgb, var(--ts-class) calc(var(--ts-tint) * 2.2), transparent); }
.ts-control { font: 600 10px/1 system-ui, sans-serif; color: var(--ts-warn); border: 1px solid var(--ts-warn); border-radius: 3px; padding: 0 3px; margin: 0 1px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--ts-grid); vertical-align: top; }
th { color: var(--ts-muted); font-weight: 600; position: sticky; top: 0; background: var(--ts-bg); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.not-scored { color: var(--ts-muted); font-style: italic; font-size: 12.5px; }
td.excerpt { overflow-wrap: anywhere; }
tbody tr:hover { background: var(--ts-surface); }
.replies { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
dl.details { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; font-size: 12.5px; margin: 0; }
dl.details dt { color: var(--ts-muted); }
dl.details dd { margin: 0; overflow-wrap: anywhere; }
#ts-tooltip { position: fixed; z-index: 10; max-width: 360px; pointer-events: none; padding: 8px 10px; background: var(--ts-bg); color: var(--ts-fg); border: 1px solid var(--ts-grid); border-radius: 6px; box-shadow: 0 4px 14px rgba(0, 0, 0, 0.18); font-size: 12px; }
#ts-tooltip .tt-title { font-weight: 600; margin-bottom: 4px; overflow-wrap: anywhere; }
#ts-tooltip table { font-size: 12px; }
#ts-tooltip td { padding: 1px 6px 1px 0; border: 0; }
@media print {
  :root, :root[data-theme] {${LIGHT} }
  body { font-size: 11pt; }
  header button, #ts-tooltip { display: none !important; }
  main { max-width: none; padding: 0 8mm; }
  .charts { grid-template-columns: 1fr 1fr; }
  figure, tr { break-inside: avoid; }
  th { position: static; }
  .ts-text { white-space: pre-wrap; border: 0; padding: 0; background: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;
