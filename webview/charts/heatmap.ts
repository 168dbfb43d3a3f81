// Layer × step heatmap of one named series (a direction's projection, …): hue for the sign, opacity
// for the size, so the sign reads at a glance and the colours follow the theme (and print) through CSS alone.

import { axisBottom, axisLeft, scaleBand, type select } from 'd3';
import type { HeatmapSeries } from './data';
import { createFrame } from './frame';
import { formatNumber } from '../../extension/common/export/format';

export interface HeatmapOptions {
  onSelect?: (index: number) => void;
}

export function renderHeatmap(container: HTMLElement, grid: HeatmapSeries, options: HeatmapOptions = {}): void {
  const rowHeight = 16;
  const { plot, width, height } = createFrame(
    container,
    grid.layers.length * rowHeight + 52,
    { top: 8, right: 12, bottom: 36, left: 48 },
    grid.title,
  );
  const x = scaleBand<number>().domain(grid.columns.map((c) => c.index)).range([0, width]);
  const y = scaleBand<number>().domain(grid.layers.map((_, row) => row)).range([0, height]);
  const extent = Math.max(1e-9, ...grid.columns.flatMap((c) => c.values.map(Math.abs)));
  const sign = (value: number) => (value < 0 ? 'ts-heat-negative' : 'ts-heat-positive');
  const strength = (value: number) => 0.08 + (0.92 * Math.abs(value)) / extent;

  const cells = grid.columns.flatMap((column) => column.values.map((value, row) => ({ index: column.index, row, value })));
  plot
    .append('g')
    .selectAll('rect')
    .data(cells)
    .join('rect')
    .attr('class', (c) => `ts-cell ${sign(c.value)}`)
    .attr('x', (c) => x(c.index) ?? 0)
    .attr('y', (c) => y(c.row) ?? 0)
    .attr('width', Math.max(1, x.bandwidth()))
    .attr('height', Math.max(1, y.bandwidth()))
    .attr('fill-opacity', (c) => strength(c.value))
    .on('click', (_event, c) => options.onSelect?.(c.index))
    .append('title')
    .text((c) => `step ${c.index}, layer ${grid.layers[c.row] ?? c.row}: ${grid.valueLabel} ${formatNumber(c.value)}`);

  const every = Math.ceil(grid.columns.length / 20);
  plot
    .append('g')
    .attr('class', 'ts-axis')
    .attr('transform', `translate(0,${height})`)
    .call(axisBottom(x).tickValues(x.domain().filter((_, i) => i % every === 0)).tickSizeOuter(0));
  plot
    .append('g')
    .attr('class', 'ts-axis')
    .call(axisLeft(y).tickFormat((row) => `L${grid.layers[row] ?? row}`).tickSizeOuter(0));
  plot.append('text').attr('class', 'ts-axis-label').attr('x', 0).attr('y', height + 32).text('step →');
  scaleLegend(plot.append('g').attr('transform', `translate(${width},${height + 22})`), extent);
}

/** Five swatches from −extent to +extent, right-aligned at the origin of `group`. */
function scaleLegend(group: ReturnType<typeof select<SVGGElement, unknown>>, extent: number): void {
  const stops = [-1, -0.5, 0, 0.5, 1];
  const swatch = 16;
  const label = (value: number) => formatNumber(value, Math.abs(extent) >= 10 ? 0 : 2);
  group
    .selectAll('rect')
    .data(stops)
    .join('rect')
    .attr('class', (t) => `ts-cell-swatch ${t < 0 ? 'ts-heat-negative' : 'ts-heat-positive'}`)
    .attr('x', (_t, i) => -swatch * (stops.length - i) - 40)
    .attr('width', swatch)
    .attr('height', 10)
    .attr('fill-opacity', (t) => 0.08 + 0.92 * Math.abs(t));
  group.append('text').attr('class', 'ts-axis-label').attr('x', -swatch * stops.length - 44).attr('y', 9).attr('text-anchor', 'end').text(label(-extent));
  group.append('text').attr('class', 'ts-axis-label').attr('x', -36).attr('y', 9).text(label(extent));
}
