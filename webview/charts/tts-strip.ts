// TTS strip: one bar per step, height = True Thinking Score, colour = SEAL class, step numbers on
// the x axis. Every bar has a full-height hit target at least MIN_BAR_PX wide, so a near-zero bar is
// as easy to click and hover as a tall one; when the steps do not fit at that width (a few hundred of
// them), the strip shows a window of them and an overview below with a brush to move or resize it.
// Bars are buttons: click, Enter or Space selects a step; arrow keys move between them (and the window).
// The tooltip is HTML, styled with the theme's hover colours.

import { axisBottom, axisLeft, brushX, scaleBand, scaleLinear, type BrushBehavior, type Selection } from 'd3';
import type { StepBar } from './data';
import { createFrame } from './frame';
import { TRUE_THINKING_MIN } from '../../extension/common/analysis/tts';

/** TTS at or above this marks a step the answer truly depends on: the analysis's own threshold. */
export const TRUE_THINKING_TTS = TRUE_THINKING_MIN;

/** The narrowest a bar's hit target may be, in pixels of the drawn chart. */
export const MIN_BAR_PX = 8;
const OVERVIEW_HEIGHT = 36;

export interface TtsStripOptions {
  onSelect?: (index: number) => void;
  height?: number;
}

export interface TtsStrip {
  /** Marks the bars of one step or of several as selected (null or [] clears). */
  highlight(index: number | readonly number[] | null): void;
  /** Moves keyboard focus to a step's bar (bringing it into the window first). */
  focus(index: number): void;
  /** The steps the strip shows now, [first, last] positions in the bar list. */
  readonly window: [number, number];
}

/** A caption in HTML above the chart, so a long one wraps instead of being clipped. */
function allLowNote(container: HTMLElement, bars: StepBar[]): void {
  const scored = bars.flatMap((b) => (b.tts === null ? [] : [b.tts]));
  const largest = Math.max(...scored);
  if (scored.length === 0 || largest >= 0.01) return;
  const shown = largest === 0 ? '0' : largest < 0.001 ? largest.toExponential(1) : largest.toFixed(3);
  const note = document.createElement('p');
  note.className = 'ts-note ts-all-low';
  note.textContent = `Every step scores below 0.01 (the largest is ${shown}): no single step drives the answer.`;
  container.prepend(note);
}

function tooltipOf(container: HTMLElement): HTMLElement {
  const tip = document.createElement('div');
  tip.className = 'ts-strip-tooltip';
  tip.setAttribute('role', 'tooltip');
  tip.hidden = true;
  container.append(tip);
  return tip;
}

export function renderTtsStrip(container: HTMLElement, bars: StepBar[], options: TtsStripOptions = {}): TtsStrip {
  const zoomable = bars.length > 0;
  const frameHeight = options.height ?? 160;
  const probeWidth = Math.max(240, container.clientWidth || 640) - 48;
  const fits = Math.max(1, Math.floor(probeWidth / MIN_BAR_PX));
  const overview = zoomable && bars.length > fits;
  const { svg, plot, width, height } = createFrame(container, frameHeight + (overview ? OVERVIEW_HEIGHT + 26 : 0), { top: 10, right: 12, bottom: 26 + (overview ? OVERVIEW_HEIGHT + 26 : 0), left: 36 }, 'True Thinking Score per step');
  container.classList.add('ts-strip-host');
  allLowNote(container, bars);
  const tip = tooltipOf(container);
  const y = scaleLinear().domain([0, 1]).range([height, 0]);
  plot.append('g').attr('class', 'ts-axis').call(axisLeft(y).ticks(4).tickSize(-width));
  plot.append('line').attr('class', 'ts-threshold').attr('x1', 0).attr('x2', width).attr('y1', y(TRUE_THINKING_TTS)).attr('y2', y(TRUE_THINKING_TTS));
  plot.append('text').attr('class', 'ts-axis-label').attr('x', width).attr('y', y(TRUE_THINKING_TTS) - 4).attr('text-anchor', 'end').text(`true thinking ≥ ${TRUE_THINKING_TTS}`);
  const xAxis = plot.append('g').attr('class', 'ts-axis ts-step-axis').attr('transform', `translate(0,${height})`);
  plot.append('text').attr('class', 'ts-axis-label').attr('x', width).attr('y', height + 22).attr('text-anchor', 'end').text('step →');
  const barLayer = plot.append('g');

  const selected = new Set<number>();
  let span: [number, number] = [0, Math.min(bars.length, overview ? fits : bars.length) - 1];
  // A step without a score still gets a short, hatched bar so it can be found and selected.
  const stub = 0.03;

  function showTip(event: MouseEvent | FocusEvent, bar: StepBar) {
    tip.textContent = bar.label;
    tip.hidden = false;
    const host = container.getBoundingClientRect();
    const target = (event.target as Element).getBoundingClientRect();
    const left = Math.min(Math.max(0, target.left - host.left + target.width / 2 - tip.offsetWidth / 2), host.width - tip.offsetWidth);
    tip.style.left = `${left}px`;
    tip.style.top = `${Math.max(0, target.top - host.top - tip.offsetHeight - 6)}px`;
  }
  const hideTip = () => {
    tip.hidden = true;
  };

  function draw() {
    const shown = bars.slice(span[0], span[1] + 1);
    const x = scaleBand<number>().domain(shown.map((b) => b.index)).range([0, width]).paddingInner(shown.length > 200 ? 0 : 0.15);
    const every = Math.max(1, Math.ceil(shown.length / Math.max(1, Math.floor(width / 36))));
    xAxis.call(axisBottom(x).tickValues(x.domain().filter((_, i) => i % every === 0)).tickSizeOuter(0));
    barLayer.selectAll('*').remove();
    const groups = barLayer.selectAll('g').data(shown).join('g').attr('class', 'ts-bar-group');
    // The hit target: the bar's whole column, so a bar of height 0 is still easy to point at.
    groups
      .append('rect')
      .attr('class', 'ts-hit')
      .attr('x', (b) => x(b.index) ?? 0)
      .attr('width', Math.max(1, x.step()))
      .attr('y', 0)
      .attr('height', height);
    const rects = groups
      .append('rect')
      .attr('class', (b) => `ts-bar ts-seal-${b.category}${b.tts === null ? ' ts-unscored' : ''}${selected.has(b.index) ? ' ts-selected' : ''}`)
      .attr('x', (b) => x(b.index) ?? 0)
      .attr('width', Math.max(1, x.bandwidth()))
      .attr('y', (b) => y(b.tts ?? stub))
      .attr('height', (b) => height - y(b.tts ?? stub))
      .attr('tabindex', 0)
      .attr('role', 'button')
      .attr('aria-label', (b) => b.label)
      .attr('data-step', (b) => b.index);
    groups.on('click', (_event, b) => options.onSelect?.(b.index));
    groups.on('mouseenter', (event: MouseEvent, b) => showTip(event, b)).on('mouseleave', hideTip);
    rects.on('focus', (event: FocusEvent, b) => showTip(event, b)).on('blur', hideTip);
    rects.on('keydown', (event: KeyboardEvent, b) => {
      const position = bars.indexOf(b);
      if (event.key === 'Enter' || event.key === ' ') options.onSelect?.(b.index);
      else if (event.key === 'ArrowRight' && position < bars.length - 1) focus(bars[position + 1].index);
      else if (event.key === 'ArrowLeft' && position > 0) focus(bars[position - 1].index);
      else return;
      event.preventDefault();
    });
  }

  let brush: BrushBehavior<unknown> | null = null;
  let brushLayer: Selection<SVGGElement, unknown, null, undefined> | null = null;
  const overviewX = scaleLinear().domain([0, bars.length]).range([0, width]);
  if (overview) {
    const top = height + 34;
    const o = plot.append('g').attr('class', 'ts-overview').attr('transform', `translate(0,${top})`);
    const oy = scaleLinear().domain([0, 1]).range([OVERVIEW_HEIGHT, 0]);
    const w = Math.max(0.5, width / bars.length);
    o.selectAll('rect')
      .data(bars)
      .join('rect')
      .attr('class', (b) => `ts-overview-bar ts-seal-${b.category}`)
      .attr('x', (_b, i) => overviewX(i))
      .attr('width', w)
      .attr('y', (b) => oy(b.tts ?? stub))
      .attr('height', (b) => OVERVIEW_HEIGHT - oy(b.tts ?? stub));
    brush = brushX()
      .extent([
        [0, 0],
        [width, OVERVIEW_HEIGHT],
      ])
      .on('brush end', (event: { selection: [number, number] | null; sourceEvent?: unknown }) => {
        if (!event.sourceEvent || !event.selection) return;
        const from = Math.max(0, Math.round(overviewX.invert(event.selection[0])));
        const to = Math.min(bars.length - 1, Math.max(from, Math.round(overviewX.invert(event.selection[1])) - 1));
        if (from === span[0] && to === span[1]) return;
        span = [from, to];
        draw();
      });
    brushLayer = o.append('g').attr('class', 'ts-brush').call(brush);
    o.append('text').attr('class', 'ts-axis-label').attr('x', 0).attr('y', OVERVIEW_HEIGHT + 12).text(`all ${bars.length} steps: drag to choose which the strip shows`);
  }
  const moveBrush = () => {
    if (brush && brushLayer) brushLayer.call(brush.move, [overviewX(span[0]), overviewX(span[1] + 1)]);
  };
  draw();
  moveBrush();

  function focus(index: number) {
    const position = bars.findIndex((b) => b.index === index);
    if (position < 0) return;
    if (position < span[0] || position > span[1]) {
      const size = span[1] - span[0];
      const from = Math.max(0, Math.min(bars.length - 1 - size, position < span[0] ? position : position - size));
      span = [from, from + size];
      draw();
      moveBrush();
    }
    (svg.select<SVGRectElement>(`rect.ts-bar[data-step="${index}"]`).node() as SVGRectElement | null)?.focus();
  }
  return {
    highlight(index) {
      selected.clear();
      for (const i of index === null ? [] : typeof index === 'number' ? [index] : index) selected.add(i);
      barLayer.selectAll<SVGRectElement, StepBar>('rect.ts-bar').classed('ts-selected', (b) => selected.has(b.index));
    },
    focus,
    get window() {
      return span;
    },
  };
}
