// Persona drift: the Assistant-Axis projection per assistant turn, with the capping floor drawn as
// a band; turns that fall into it have drifted away from the assistant.

import { axisBottom, axisLeft, extent, line, scaleLinear, scalePoint } from 'd3';
import type { PersonaSeries } from './data';
import { createFrame } from './frame';
import { formatNumber } from '../../extension/common/export/format';

export function renderPersonaLine(container: HTMLElement, series: PersonaSeries): void {
  const { plot, width, height } = createFrame(container, 180, { top: 12, right: 16, bottom: 32, left: 44 }, 'Assistant-Axis projection per turn');
  const values = series.turns.map((t) => t.projection).concat(series.floor === null ? [] : [series.floor]);
  const [low, high] = extent(values) as [number, number] | [undefined, undefined];
  const pad = Math.max(0.1, ((high ?? 1) - (low ?? 0)) * 0.15);
  const y = scaleLinear().domain([(low ?? 0) - pad, (high ?? 1) + pad]).range([height, 0]).nice();
  const x = scalePoint<number>().domain(series.turns.map((t) => t.turn)).range([0, width]).padding(0.5);

  if (series.floor !== null) {
    const floorY = y(series.floor);
    plot.append('rect').attr('class', 'ts-floor-band').attr('x', 0).attr('width', width).attr('y', floorY).attr('height', Math.max(0, height - floorY));
    plot.append('line').attr('class', 'ts-floor').attr('x1', 0).attr('x2', width).attr('y1', floorY).attr('y2', floorY);
    plot.append('text').attr('class', 'ts-axis-label').attr('x', width - 4).attr('y', floorY + 14).attr('text-anchor', 'end').text(`capping floor τ = ${formatNumber(series.floor, 2)}`);
  }
  plot.append('g').attr('class', 'ts-axis').call(axisLeft(y).ticks(5));
  plot.append('g').attr('class', 'ts-axis').attr('transform', `translate(0,${height})`).call(axisBottom(x).tickFormat((turn) => `turn ${turn}`));

  const path = line<PersonaSeries['turns'][number]>()
    .x((t) => x(t.turn) ?? 0)
    .y((t) => y(t.projection));
  plot.append('path').datum(series.turns).attr('class', 'ts-line').attr('d', path);
  plot
    .append('g')
    .selectAll('circle')
    .data(series.turns)
    .join('circle')
    .attr('class', (t) => `ts-point${t.belowFloor ? ' ts-below-floor' : ''}`)
    .attr('cx', (t) => x(t.turn) ?? 0)
    .attr('cy', (t) => y(t.projection))
    .attr('r', 5)
    .attr('tabindex', 0)
    .attr('aria-label', (t) => `Turn ${t.turn}: projection ${formatNumber(t.projection)}${t.belowFloor ? ', below the floor' : ''}`)
    .append('title')
    .text((t) => `Turn ${t.turn}: projection ${formatNumber(t.projection)}${t.belowFloor ? ' (below the floor)' : ''}`);
}
