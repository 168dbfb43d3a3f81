// The script of an exported HTML trace: reads the embedded trace file and draws the charts, the
// step tooltips, the links between bars and steps, and the light/dark toggle. Every string from the
// trace reaches the page through textContent or a d3 .text(), never as markup.

import type { StepAnnotation, TraceFile } from '../../extension/common/bundle/trace-file';
import { excerpt, formatNumber, formatSeal, formatTts, revealControls } from '../../extension/common/export/format';
import { TRACE_DATA_ELEMENT_ID } from '../../extension/common/export/page-ids';
import { heatmapSeries, personaSeries, sealCounts, stepBars } from './data';
import { renderHeatmap } from './heatmap';
import { renderPersonaLine } from './persona-line';
import { renderSealComposition } from './seal-composition';
import { installChartStyles } from './style';
import { renderTtsStrip, type TtsStrip } from './tts-strip';

const nonce = (document.currentScript as HTMLScriptElement | null)?.nonce ?? '';
const byId = (id: string) => document.getElementById(id);

function start(): void {
  const file = JSON.parse(byId(TRACE_DATA_ELEMENT_ID)?.textContent ?? 'null') as TraceFile | null;
  if (!file) return;
  installChartStyles(document, nonce);
  const steps = new Map(file.steps.map((step) => [step.index, step]));
  const spanOf = (index: number) => byId(`step-${index}`);

  let strip: TtsStrip | undefined;
  const selectStep = (index: number) => {
    document.querySelectorAll('.ts-step.ts-active').forEach((el) => el.classList.remove('ts-active'));
    const span = spanOf(index);
    span?.classList.add('ts-active');
    span?.scrollIntoView({ block: 'center', behavior: 'smooth' });
    strip?.highlight(index);
  };

  const draw = () => {
    const ttsChart = byId('chart-tts');
    if (ttsChart) strip = renderTtsStrip(ttsChart, stepBars(file.steps), { onSelect: selectStep });
    const sealChart = byId('chart-seal');
    if (sealChart) renderSealComposition(sealChart, sealCounts(file.steps));
    drawHeatmap(file, selectStep);
    const personaChart = byId('chart-persona');
    if (personaChart) renderPersonaLine(personaChart, personaSeries(file));
  };
  draw();
  addThemeToggle();
  wireTooltips(steps, file, (index) => strip?.highlight(index), selectStep);
}

function drawHeatmap(file: TraceFile, onSelect: (index: number) => void): void {
  const chart = byId('chart-heatmap');
  const controls = byId('heatmap-controls');
  const series = heatmapSeries(file);
  if (!chart || !controls || series.length === 0) return;
  let picker = controls.querySelector('select');
  if (!picker) {
    picker = document.createElement('select');
    picker.setAttribute('aria-label', 'Heatmap series');
    series.forEach(({ name }, i) => picker?.append(new Option(excerpt(revealControls(name), 60), String(i))));
    picker.addEventListener('change', () => drawHeatmap(file, onSelect));
    controls.append(picker);
  }
  renderHeatmap(chart, series[Number(picker.value)] ?? series[0], { onSelect });
}

const THEMES = ['auto', 'light', 'dark'] as const;
function addThemeToggle(): void {
  const button = document.createElement('button');
  const root = document.documentElement;
  const show = () => {
    button.textContent = `Theme: ${root.dataset.theme ?? 'auto'}`;
  };
  button.type = 'button';
  button.title = 'Switch between the system theme, light and dark';
  button.addEventListener('click', () => {
    const next = THEMES[(THEMES.indexOf((root.dataset.theme ?? 'auto') as (typeof THEMES)[number]) + 1) % THEMES.length];
    root.dataset.theme = next;
    show();
  });
  show();
  byId('ts-toolbar')?.append(button);
}

function wireTooltips(steps: Map<number, StepAnnotation>, file: TraceFile, highlight: (index: number | null) => void, select: (index: number) => void): void {
  const tooltip = byId('ts-tooltip');
  const trace = byId('ts-trace');
  if (!tooltip || !trace) return;
  const stepAt = (target: EventTarget | null) => (target instanceof Element ? target.closest<HTMLElement>('#ts-trace .ts-step') : null);
  const show = (span: HTMLElement, x: number, y: number) => {
    const step = steps.get(Number(span.dataset.step));
    if (!step) return;
    fillTooltip(tooltip, step, file);
    tooltip.hidden = false;
    const box = tooltip.getBoundingClientRect();
    tooltip.style.left = `${Math.max(8, Math.min(x + 14, window.innerWidth - box.width - 8))}px`;
    tooltip.style.top = `${y + box.height + 24 > window.innerHeight ? y - box.height - 12 : y + 18}px`;
    highlight(step.index);
  };
  const hide = () => {
    tooltip.hidden = true;
  };
  trace.addEventListener('mousemove', (event) => {
    const span = stepAt(event.target);
    if (span) show(span, event.clientX, event.clientY);
    else hide();
  });
  trace.addEventListener('mouseleave', hide);
  trace.addEventListener('focusin', (event) => {
    const span = stepAt(event.target);
    if (!span) return;
    const rect = span.getBoundingClientRect();
    show(span, rect.left, rect.top);
  });
  trace.addEventListener('focusout', hide);
  trace.addEventListener('click', (event) => {
    const span = stepAt(event.target);
    if (span) select(Number(span.dataset.step));
  });
  trace.addEventListener('keydown', (event) => {
    const span = stepAt(event.target);
    if (span && (event.key === 'Enter' || event.key === ' ')) {
      event.preventDefault();
      select(Number(span.dataset.step));
    }
  });
}

function fillTooltip(tooltip: HTMLElement, step: StepAnnotation, file: TraceFile): void {
  const title = document.createElement('div');
  title.className = 'tt-title';
  title.textContent = revealControls(`Step ${step.index} · ${formatSeal(step)}`);
  const table = document.createElement('table');
  const row = (name: string, value: string) => {
    const tr = table.insertRow();
    tr.insertCell().textContent = name;
    tr.insertCell().textContent = revealControls(value);
  };
  row('TTS', step.perturbable ? formatTts(step) : 'n/p (nothing to perturb)');
  row('S₁₁ · S₀₁', `${formatNumber(step.s11)} · ${formatNumber(step.s01)}`);
  row('S₁₀ · S₀₀', `${formatNumber(step.s10)} · ${formatNumber(step.s00)}`);
  row('Latent score', formatNumber(step.latentScore, 2));
  for (const [name, values] of Object.entries(step.projections)) {
    if (values.length === 0) continue;
    const peak = values.reduce((best, v, i) => (Math.abs(v) > Math.abs(values[best]) ? i : best), 0);
    const layer = file.directions.find((d) => d.name === name)?.layers[peak] ?? peak;
    row(name, `${formatNumber(values[peak])} at layer ${layer} (strongest of ${values.length})`);
  }
  tooltip.replaceChildren(title, table);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
