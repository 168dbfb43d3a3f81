// SEAL composition: one stacked bar of how many steps fall in each class, with counts in a legend.

import { scaleLinear } from 'd3';
import { SEAL_CATEGORIES, type SealCategory } from './data';
import { createFrame } from './frame';

export function renderSealComposition(container: HTMLElement, counts: Record<SealCategory, number>): void {
  const total = SEAL_CATEGORIES.reduce((sum, c) => sum + counts[c], 0);
  const { plot, width } = createFrame(container, 66, { top: 4, right: 4, bottom: 4, left: 4 }, `SEAL classes of ${total} steps`);
  const x = scaleLinear().domain([0, Math.max(1, total)]).range([0, width]);
  const segments = SEAL_CATEGORIES.filter((c) => counts[c] > 0).map((category, i, shown) => ({
    category,
    count: counts[category],
    offset: shown.slice(0, i).reduce((sum, c) => sum + counts[c], 0),
  }));
  const percent = (n: number) => (total === 0 ? 0 : Math.round((100 * n) / total));
  plot
    .selectAll('rect')
    .data(segments)
    .join('rect')
    .attr('class', (s) => `ts-segment ts-seal-${s.category}`)
    .attr('x', (s) => x(s.offset))
    .attr('width', (s) => Math.max(0, x(s.count) - x(0) - 1))
    .attr('height', 24)
    .attr('role', 'img')
    .attr('aria-label', (s) => `${s.category}: ${s.count} of ${total} steps`)
    .append('title')
    .text((s) => `${s.category}: ${s.count} of ${total} steps (${percent(s.count)}%)`);

  const legend = plot.append('g').attr('transform', 'translate(0,50)');
  let cursor = 0;
  for (const category of SEAL_CATEGORIES) {
    const item = legend.append('g').attr('transform', `translate(${cursor},0)`);
    item.append('rect').attr('class', `ts-swatch ts-seal-${category}`).attr('width', 12).attr('height', 12).attr('y', -10);
    const label = item.append('text').attr('class', 'ts-legend').attr('x', 16).text(`${category} ${counts[category]} (${percent(counts[category])}%)`);
    cursor += 16 + (label.node()?.getComputedTextLength() || 110) + 18;
  }
}
