// The self-contained HTML export: one file with the trace, its annotations, the charts (the chart
// script with d3 inlined) and the data. A CSP forbids every request; every string from the trace is
// escaped, and the embedded JSON cannot close its <script> element.

import { readableTrace } from './readable-trace';
import type { ReplyRecord, StepAnnotation, TraceFile } from '../bundle/trace-file';
import { excerpt, formatNumber, formatSeal, formatTts, revealControls } from './format';
import { answerWarnings } from '../analysis/tts';
import { replySummaryRows } from '../analysis/reply-summary';
import { PAGE_CSS } from './html-style';
import { TRACE_DATA_ELEMENT_ID } from './page-ids';
import { validateTraceFile } from '../bundle/trace-load';

export interface HtmlAssets {
  /** The bundled page script (webview/charts/export-page.ts with d3), run under the page's nonce. */
  chartScript: string;
  /** Fixed only by tests; a fresh random nonce otherwise. */
  nonce?: string;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an HTML text node or a double-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** Escaped text with hidden bidi/control characters shown as visible, labelled markers. */
function textHtml(text: string): string {
  return revealControls(escapeHtml(text), (hex) => `<span class="ts-control" title="U+${hex}">U+${hex}</span>`);
}

/** JSON that is inert inside `<script type="application/json">`: no `<`, `>`, `&` or line separators. */
export function embeddableJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Script text that cannot end its `<script>` element early nor enter the "escaped" parser states. */
function inlineScript(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

function randomNonce(): string {
  const bytes = new Uint8Array(18);
  globalThis.crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}

export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    'img-src data:',
    "font-src 'none'",
    "connect-src 'none'",
    "media-src 'none'",
    "object-src 'none'",
    "frame-src 'none'",
    "worker-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** The page for a trace file; the file is validated first, so every field has the type it claims. */
export function exportHtml(unchecked: TraceFile, assets: HtmlAssets): string {
  const file = validateTraceFile(unchecked);
  const nonce = assets.nonce ?? randomNonce();
  const title = `${file.source.name} · ThinkScope trace`;
  const readable = readableTrace(file);
  return `<!DOCTYPE html>
<html lang="en" data-theme="auto">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(nonce)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ThinkScope">
<title>${escapeHtml(revealControls(title))}</title>
<style nonce="${nonce}">${PAGE_CSS}</style>
</head>
<body>
<header>
<div class="title">
<h1>${textHtml(file.source.name)}</h1>
<p class="meta">${metaLine(file)}</p>
</div>
<div id="ts-toolbar"></div>
</header>
<main>
<section class="charts" aria-label="Charts">
${chartFigures(file)}
</section>
<section aria-labelledby="trace-heading">
<h2 id="trace-heading">Trace</h2>
${legend()}
<pre class="ts-text" id="ts-trace" dir="ltr">${annotatedHtml(readable.text, readable.steps, 'step')}</pre>
</section>
<section aria-labelledby="steps-heading">
<h2 id="steps-heading">Steps</h2>
${stepsTable(readable.steps)}
</section>
${comparisonSection(file)}
<section aria-labelledby="details-heading">
<h2 id="details-heading">Analysis settings</h2>
${details(file)}
</section>
</main>
<div id="ts-tooltip" role="tooltip" hidden></div>
<script type="application/json" id="${TRACE_DATA_ELEMENT_ID}">${embeddableJson(file)}</script>
<script nonce="${nonce}">${inlineScript(assets.chartScript)}</script>
</body>
</html>
`;
}

function metaLine(file: TraceFile): string {
  const parts = [
    file.model ? `${file.model.name} (${file.model.architecture}, ${file.model.numLayers} layers, ${file.model.precision})` : 'no model',
    `${file.steps.length} steps by ${file.segmentation}`,
    `ThinkScope ${file.tool.version}`,
    file.createdAt,
    ...(file.answerCheck ? answerWarnings(file.answerCheck, file.settings.answer ?? '').map((warning) => `warning: ${warning}`) : []),
  ];
  return parts.map((part) => `<span>${textHtml(part)}</span>`).join('');
}

function chartFigures(file: TraceFile): string {
  const figures = [
    `<figure class="wide"><figcaption>True Thinking Score per step <small>colour: SEAL class · click a bar to find the step</small></figcaption><div class="chart" id="chart-tts"></div></figure>`,
    `<figure class="wide"><figcaption>SEAL classes</figcaption><div class="chart" id="chart-seal"></div></figure>`,
  ];
  const lower: string[] = [];
  if (file.steps.some((step) => Object.keys(step.projections).length > 0)) {
    lower.push(`<figcaption>Projection by layer and step <span id="heatmap-controls"></span></figcaption><div class="chart" id="chart-heatmap"></div>`);
  }
  if (file.turns.length > 0) {
    lower.push(`<figcaption>Persona drift: Assistant-Axis projection per turn</figcaption><div class="chart" id="chart-persona"></div>`);
  }
  // Two charts share a row; a single one takes the whole row.
  figures.push(...lower.map((inner) => `<figure${lower.length === 1 ? ' class="wide"' : ''}>${inner}</figure>`));
  return figures.join('\n');
}

function legend(): string {
  const items = ['execution', 'reflection', 'transition', 'unclassified'].map((c) => `<span><i class="ts-${c}"></i>${c}</span>`);
  return `<p class="legend">${items.join('')}<span>badge: step # · TTS (n/p: nothing to perturb)</span></p>`;
}

/** The text with every step wrapped in a focusable span carrying its class and TTS badge. */
function annotatedHtml(text: string, steps: StepAnnotation[], idPrefix: string): string {
  const parts: string[] = [];
  let cursor = 0;
  for (const step of steps) {
    parts.push(textHtml(text.slice(cursor, step.start)));
    const badge = `#${step.index} · ${formatTts(step)}`;
    parts.push(
      `<span class="ts-step ts-${step.sealClass ?? 'unclassified'}" id="${idPrefix}-${step.index}" data-step="${step.index}" data-badge="${escapeHtml(badge)}" tabindex="0">${textHtml(step.text)}</span>`,
    );
    cursor = step.end;
  }
  parts.push(textHtml(text.slice(cursor)));
  return parts.join('');
}

function stepsTable(steps: StepAnnotation[]): string {
  if (steps.length === 0) return '<p class="chart-empty">No steps.</p>';
  const num = (value: string) => `<td class="num">${value}</td>`;
  const rows = steps.map(
    (s) =>
      `<tr data-step="${s.index}">${num(String(s.index))}${num(formatTts(s))}${[s.s11, s.s01, s.s10, s.s00].map((v) => num(formatNumber(v))).join('')}<td>${textHtml(formatSeal(s))}</td>${num(formatNumber(s.latentScore, 2))}<td class="excerpt">${textHtml(excerpt(s.text, 120))}</td></tr>`,
  );
  const head = ['#', 'TTS', 'S₁₁', 'S₀₁', 'S₁₀', 'S₀₀'].map((h) => `<th class="num">${h}</th>`).join('');
  return `<table><thead><tr>${head}<th>SEAL</th><th class="num">Latent</th><th>Step</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function comparisonSection(file: TraceFile): string {
  const comparison = file.comparison;
  if (!comparison) return '';
  const reply = (name: string, record: ReplyRecord, prefix: string) =>
    `<div><h3>${name}</h3><pre class="ts-text" dir="ltr">${annotatedHtml(record.text, record.steps, prefix)}</pre></div>`;
  const byIndex = (record: ReplyRecord) => new Map(record.steps.map((s) => [s.index, s]));
  const baseline = byIndex(comparison.baseline);
  const steered = byIndex(comparison.steered);
  const cells = (step: StepAnnotation | undefined) =>
    step ? `<td class="num">${step.index}</td><td>${textHtml(formatSeal(step))}</td><td class="num">${formatTts(step)}</td>` : '<td class="num">—</td><td></td><td></td>';
  const rows = comparison.alignment.map(([b, s]) => `<tr>${cells(baseline.get(b))}${cells(steered.get(s))}</tr>`).join('');
  return `<section aria-labelledby="comparison-heading">
<h2 id="comparison-heading">Steered comparison</h2>
<p><strong>Prompt:</strong> ${textHtml(comparison.prompt)}</p>
<div class="replies">${reply('Baseline', comparison.baseline, 'baseline-step')}${reply('Steered', comparison.steered, 'steered-step')}</div>
<h3>Step alignment</h3>
<table><thead><tr><th class="num">Baseline #</th><th>SEAL</th><th class="num">TTS</th><th class="num">Steered #</th><th>SEAL</th><th class="num">TTS</th></tr></thead><tbody>${rows}</tbody></table>
${scoreTable([comparison.baseline, comparison.steered])}</section>`;
}

/** How the scores moved from the baseline to the steered reply (the Steering panel's summary); nothing for keyword classes alone. */
function scoreTable(replies: ReplyRecord[]): string {
  if (!replies.some((reply) => reply.scoring)) return '';
  const cell = (text: string, notScored: string | null) => (notScored ? `<td class="not-scored">${textHtml(notScored)}</td>` : `<td class="num">${textHtml(text)}</td>`);
  const rows = replySummaryRows(replies)
    .map((row) => `<tr><th scope="row">${textHtml(row.label)}</th>${row.cells.map((c) => cell(c.text, c.notScored)).join('')}<td class="num">${textHtml(row.change ?? '')}</td></tr>`)
    .join('');
  return `<h3>Scores</h3>
<table><thead><tr><th></th><th class="num">Baseline</th><th class="num">Steered</th><th class="num">Change</th></tr></thead><tbody>${rows}</tbody></table>
`;
}

function details(file: TraceFile): string {
  const rows: [string, string][] = [];
  const model = file.model;
  if (model) {
    rows.push(['Model', `${model.name} · ${model.architecture} · ${model.numLayers} layers · hidden ${model.hiddenSize} · vocab ${model.vocabSize} · ${model.precision}`]);
    rows.push(['Weights', model.weightsHash]);
  }
  rows.push(['Source', `${file.source.name} (${file.source.format}, ${file.source.text.length} characters)`]);
  rows.push(['Segmentation', file.segmentation]);
  const s = file.settings;
  rows.push(['TTS cue / answer', `${JSON.stringify(s.cue)} / ${s.answer === null ? '—' : JSON.stringify(s.answer)} · seed ${s.seed}`]);
  rows.push(['Layers', `SEAL ${s.sealLayer ?? '—'} · persona ${s.personaLayer ?? '—'}`]);
  for (const d of file.directions) rows.push([`Direction ${d.name}`, `${d.method} · ${d.hook} · layers ${d.layers.join(', ')} · ${d.modelFingerprint}`]);
  for (const st of file.steering) rows.push(['Steering', `${st.method} ${st.direction} × ${st.strength} at layers ${st.layers.join(', ')}`]);
  const g = file.generation;
  if (g) rows.push(['Generation', `max ${g.maxTokens} tokens · temperature ${g.temperature} · top-p ${g.topP} · top-k ${g.topK} · seed ${g.seed}`]);
  return `<dl class="details">${rows.map(([k, v]) => `<dt>${textHtml(k)}</dt><dd>${textHtml(v)}</dd>`).join('')}</dl>`;
}
