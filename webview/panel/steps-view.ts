// The Steps view: the TTS strip (bars coloured by SEAL class; a bar selects its step in the editor,
// the editor selection highlights its bars), the SEAL composition, and the layer × step heatmap of
// the projection onto a chosen direction.
import { NOT_PERTURBABLE_MEANING, SEAL_CLASS_MEANING, TTS_BUCKET_MEANING } from '../../extension/common/annotation-legend';
import type { TraceFile } from '../../extension/common/bundle/trace-file';
import { excerpt } from '../../extension/common/export/format';
import type { ShownTrace } from '../../extension/common/webview-protocol';
import {
  heatmapSeries,
  renderHeatmap,
  renderSealComposition,
  renderTtsStrip,
  sealCounts,
  stepBars,
} from '../charts';
import { emptyState, h, section, toolkit, traceText } from './dom';

export interface StepsActions {
  revealStep(index: number): void;
  /** Prune the trace's decorative (low-TTS) steps. */
  prune(): void;
  selectDirection(name: string): void;
}

export interface StepsView {
  highlight(steps: readonly number[]): void;
  /** The direction the heatmap shows (null: none). */
  readonly heatmapDirection: string | null;
}

export function noTraceState(): HTMLElement {
  return emptyState(
    'No analysed trace yet',
    'Open a reasoning trace (Markdown, text or JSON) and run “ThinkScope: Analyze Trace”, or open a .thinktrace.json file.',
    'The panel follows the active editor and shows the analysis of the document you are looking at.',
  );
}

export function traceSummary(file: TraceFile): HTMLElement {
  const scored = file.steps.filter((s) => s.tts !== null).length;
  const parts = [`${file.steps.length} steps`, `${scored} with a TTS`, file.model ? `model ${file.model.name}` : 'no model recorded'];
  return h('header', { class: 'ts-summary' }, h('span', { class: 'ts-trace-name' }, traceText(file.source.name)), h('span', { class: 'ts-muted' }, parts.map(traceText).join(' · ')));
}

/** A small square filled by a chart class (its colour comes from the chart styles, so themes apply). */
function swatch(className: string): SVGSVGElement {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'ts-swatch');
  svg.setAttribute('width', '10');
  svg.setAttribute('height', '10');
  svg.setAttribute('aria-hidden', 'true');
  const rect = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  rect.setAttribute('class', className);
  rect.setAttribute('width', '10');
  rect.setAttribute('height', '10');
  svg.append(rect);
  return svg;
}

/** What the colours, the bar heights, `n/p` and the editor's badges mean. */
function legend(): HTMLElement {
  const item = (mark: Node | string, text: string) => h('li', {}, mark, ' ', text);
  return h(
    'details',
    { class: 'ts-legend-box', 'data-legend': 'steps' },
    h('summary', {}, 'Legend'),
    h(
      'ul',
      {},
      item(swatch('ts-seal-execution'), SEAL_CLASS_MEANING.execution),
      item(swatch('ts-seal-reflection'), SEAL_CLASS_MEANING.reflection),
      item(swatch('ts-seal-transition'), SEAL_CLASS_MEANING.transition),
      item(swatch('ts-seal-unclassified ts-unscored'), 'a short pale bar: a step without a TTS'),
      item('Bar height:', 'the step\'s True Thinking Score, 0 to 1; the dashed line marks true thinking'),
      item('Editor badge “#12 TTS 0.42”:', `step 12 and its score, coloured by bucket — ${TTS_BUCKET_MEANING.high}; ${TTS_BUCKET_MEANING.medium}; ${TTS_BUCKET_MEANING.low}`),
      item('n/p:', NOT_PERTURBABLE_MEANING.replace(/^n\/p: /, '')),
    ),
  );
}

export function renderStepsView(root: HTMLElement, trace: ShownTrace | null, wantedDirection: string | null, selection: readonly number[], actions: StepsActions): StepsView {
  root.replaceChildren();
  if (!trace) {
    root.append(noTraceState());
    return { highlight: () => {}, heatmapDirection: null };
  }
  const { file } = trace;
  const stripChart = h('div', { class: 'ts-chart-box', 'data-chart': 'tts' });
  const stripNotes = [h('p', { class: 'ts-hint' }, 'Click a bar or press Enter on it to select the step in the editor; ← → move between bars. Selecting text in the editor highlights its steps.')];
  const check = file.answerCheck;
  if (check?.tts === 'uninformative') {
    stripNotes.push(h('p', { class: 'ts-note', 'data-note': 'uninformative' }, `Uninformative: after the whole trace the model gives the scored answer “${traceText(file.settings.answer ?? '')}” only S = ${check.confidence.toExponential(1)}, so these scores cannot tell true steps from decorative ones.`));
  }
  if (check && !check.agrees) {
    stripNotes.push(h('p', { class: 'ts-note', 'data-note': 'answer' }, `The model's own answer after the trace is “${traceText(check.modelAnswer)}”, not the scored “${traceText(file.settings.answer ?? '')}”. Analyze Trace again to score the other.`));
  }
  if (file.steps.every((s) => s.tts === null)) {
    stripNotes.push(h('p', { class: 'ts-note' }, 'No True Thinking Scores in this analysis: each step shows as a short bar coloured by its SEAL class. Analyze with TTS on to score the steps.'));
  }
  root.append(traceSummary(file), section('True Thinking Score per step', ...stripNotes, stripChart, legend()));
  if (trace.whatIf || (file.model && file.steps.some((s) => s.tts !== null))) root.append(whatIfSection(trace, actions));

  const sealChart = h('div', { class: 'ts-chart-box', 'data-chart': 'seal' });
  const classified = file.steps.some((s) => s.sealClass !== null);
  root.append(section('SEAL composition', classified ? sealChart : emptyState('No SEAL classes in this analysis', 'Analyze with SEAL on to classify each step as execution, reflection or transition.')));

  const series = heatmapSeries(file);
  const shownSeries = series.find((s) => s.name === wantedDirection) ?? series[0] ?? null;
  const heatmapDirection = shownSeries?.name ?? null;
  const heatChart = h('div', { class: 'ts-chart-box', 'data-chart': 'heatmap' });
  if (heatmapDirection === null) {
    root.append(section('Projection by layer', emptyState('No direction projections in this trace', 'Analyze with a saved direction to see, layer by layer, how strongly each step points along it.')));
  } else {
    const picker = toolkit('vscode-dropdown', { 'aria-label': 'What the heatmap shows', class: 'ts-direction-picker' });
    for (const { name } of series) {
      picker.append(toolkit('vscode-option', { value: name, selected: name === heatmapDirection }, excerpt(traceText(name), 60)));
    }
    picker.addEventListener('change', () => {
      const chosen = (picker as HTMLSelectElement).value;
      if (chosen && chosen !== heatmapDirection) actions.selectDirection(chosen);
    });
    root.append(section('Projection by layer', h('div', { class: 'ts-row' }, h('label', { class: 'ts-muted' }, 'Series'), picker), heatChart));
  }

  const strip = renderTtsStrip(stripChart, stepBars(file.steps), { onSelect: actions.revealStep });
  strip.highlight(selection);
  if (classified) renderSealComposition(sealChart, sealCounts(file.steps));
  if (shownSeries !== null) renderHeatmap(heatChart, shownSeries, { onSelect: actions.revealStep });
  return {
    highlight: (steps) => strip.highlight(steps),
    heatmapDirection,
  };
}

/** The answer's readout after the latest edit (or removed / perturbed step), and the pruning button. */
function whatIfSection(trace: ShownTrace, actions: StepsActions): HTMLElement {
  const readout = trace.whatIf
    ? h('p', { class: 'ts-what-if', 'data-what-if': '' }, traceText(trace.whatIf))
    : h('p', { class: 'ts-hint' }, 'Edit a step in the editor (or use Remove / Perturb this step in its hover): the answer’s confidence S before → after shows here and on the step.');
  const prune = toolkit('vscode-button', { appearance: 'secondary', 'data-action': 'prune', title: 'Remove the steps with a low True Thinking Score and check that the answer holds' }, 'Prune decorative steps…');
  prune.addEventListener('click', () => actions.prune());
  return section('What if', readout, h('div', { class: 'ts-row' }, prune));
}
