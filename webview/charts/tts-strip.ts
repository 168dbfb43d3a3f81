// TTS strip: one bar per step, height = True Thinking Score, colour = SEAL class. Bars are buttons:
// click, Enter or Space selects a step; arrow keys move between them.

import { axisLeft, scaleBand, scaleLinear } from 'd3';
import type { StepBar } from './data';
import { createFrame } from './frame';
import { TRUE_THINKING_MIN } from '../../extension/common/analysis/tts';

/** TTS at or above this marks a step the answer truly depends on: the analysis's own threshold. */
export const TRUE_THINKING_TTS = TRUE_THINKING_MIN;

export interface TtsStripOptions {
  onSelect?: (index: number) => void;
  height?: number;
}

export interface TtsStrip {
  /** Marks the bars of one step or of several as selected (null or [] clears). */
  highlight(index: number | readonly number[] | null): void;
  /** Moves keyboard focus to a step's bar. */
  focus(index: number): void;
}

export function renderTtsStrip(container: HTMLElement, bars: StepBar[], options: TtsStripOptions = {}): TtsStrip {
  const { svg, plot, width, height } = createFrame(container, options.height ?? 160, { top: 10, right: 12, bottom: 24, left: 36 }, 'True Thinking Score per step');
  const x = scaleBand<number>().domain(bars.map((b) => b.index)).range([0, width]).paddingInner(bars.length > 200 ? 0 : 0.15);
  const y = scaleLinear().domain([0, 1]).range([height, 0]);

  plot.append('g').attr('class', 'ts-axis').call(axisLeft(y).ticks(4).tickSize(-width));
  plot
    .append('line')
    .attr('class', 'ts-threshold')
    .attr('x1', 0)
    .attr('x2', width)
    .attr('y1', y(TRUE_THINKING_TTS))
    .attr('y2', y(TRUE_THINKING_TTS));
  plot.append('text').attr('class', 'ts-axis-label').attr('x', width).attr('y', y(TRUE_THINKING_TTS) - 4).attr('text-anchor', 'end').text(`true thinking ≥ ${TRUE_THINKING_TTS}`);
  plot.append('text').attr('class', 'ts-axis-label').attr('x', 0).attr('y', height + 18).text('steps →');
  // Scores too small to see as bars (a model that leans on no single step) are said in words, so the
  // strip does not read as empty.
  const scored = bars.flatMap((b) => (b.tts === null ? [] : [b.tts]));
  const largest = Math.max(...scored);
  if (scored.length > 0 && largest < 0.01) {
    const shown = largest === 0 ? '0' : largest < 0.001 ? largest.toExponential(1) : largest.toFixed(3);
    plot.append('text').attr('class', 'ts-axis-label ts-all-low').attr('x', 4).attr('y', 12).text(`every step scores below 0.01 (the largest is ${shown}): no single step drives the answer`);
  }

  // A step without a score still gets a short, hatched bar so it can be found and selected.
  const stub = 0.03;
  const rects = plot
    .append('g')
    .selectAll('rect')
    .data(bars)
    .join('rect')
    .attr('class', (b) => `ts-bar ts-seal-${b.category}${b.tts === null ? ' ts-unscored' : ''}`)
    .attr('x', (b) => x(b.index) ?? 0)
    .attr('width', Math.max(1, x.bandwidth()))
    .attr('y', (b) => y(b.tts ?? stub))
    .attr('height', (b) => height - y(b.tts ?? stub))
    .attr('tabindex', 0)
    .attr('role', 'button')
    .attr('aria-label', (b) => b.label)
    .attr('data-step', (b) => b.index);
  rects.append('title').text((b) => b.label);

  rects.on('click', (_event, b) => options.onSelect?.(b.index));
  rects.on('keydown', (event: KeyboardEvent, b) => {
    const position = bars.indexOf(b);
    if (event.key === 'Enter' || event.key === ' ') options.onSelect?.(b.index);
    else if (event.key === 'ArrowRight' && position < bars.length - 1) focus(bars[position + 1].index);
    else if (event.key === 'ArrowLeft' && position > 0) focus(bars[position - 1].index);
    else return;
    event.preventDefault();
  });

  function focus(index: number) {
    (svg.select<SVGRectElement>(`rect.ts-bar[data-step="${index}"]`).node() as SVGRectElement | null)?.focus();
  }
  return {
    highlight(index) {
      const selected = new Set(index === null ? [] : typeof index === 'number' ? [index] : index);
      rects.classed('ts-selected', (b) => selected.has(b.index));
    },
    focus,
  };
}
