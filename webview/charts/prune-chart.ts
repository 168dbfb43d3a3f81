// A folder's pruning: tokens saved (x) against answers kept (y), one marker per rule, joined in order of
// tokens saved. Rules that prune alike land on one spot and share a marker. Hovering or focusing a
// marker shows every number of its rules' table rows (the engine's own cells) in a themed tooltip.

import { axisBottom, axisLeft, format, line, scaleLinear } from 'd3';
import { PRUNE_TABLE_COLUMNS, type PrunePoint } from '../../extension/common/analysis/prune';
import { createFrame } from './frame';

/** Rules whose points are closer than this (as a share of an axis) are drawn as one marker. */
const SAME_SPOT = 0.005;

export interface PruneMarker {
  /** Positions in the points/rows of the rules this marker stands for. */
  rows: number[];
  tokensSaved: number;
  answersKept: number;
  /** The rules' numbers in the table (1-based), as the marker's label shows them. */
  label: string;
  /** What hovering the marker shows: per rule, its name and each column of its row. */
  tooltip: string;
}

/** The markers of a batch: points that share a spot grouped, in order of tokens saved. */
export function pruneMarkers(points: readonly PrunePoint[], rows: readonly string[][]): PruneMarker[] {
  const bySpot = new Map<string, number[]>();
  points.forEach((point, row) => {
    const spot = `${Math.round(point.tokensSaved / SAME_SPOT)}:${Math.round(point.answersKept / SAME_SPOT)}`;
    bySpot.set(spot, [...(bySpot.get(spot) ?? []), row]);
  });
  return [...bySpot.values()]
    .map((group) => ({
      rows: group,
      tokensSaved: points[group[0]].tokensSaved,
      answersKept: points[group[0]].answersKept,
      label: group.map((row) => String(row + 1)).join(', '),
      tooltip: group.map((row) => rowDescription(rows[row])).join('\n\n'),
    }))
    .sort((a, b) => a.tokensSaved - b.tokensSaved || b.answersKept - a.answersKept);
}

/** "TTS < 0.005\ntraces: 3\ntokens saved (mean): 31%\n…" from a row of the table. */
function rowDescription(cells: readonly string[]): string {
  return [cells[0], ...PRUNE_TABLE_COLUMNS.slice(1).map((column, i) => `${column}: ${cells[i + 1]}`)].join('\n');
}

const LABEL_CHAR_PX = 7;
/** Space kept between two labels, so "2" and "4" never read as "24". */
const LABEL_GAP_PX = 6;
const LABEL_HEIGHT_PX = 12;
const TOP_MARGIN_PX = 20;

/**
 * Where each marker's label goes, relative to its marker: up and to the right unless that runs off the
 * plot or onto a label already placed (rules often land close together), then the next free spot.
 */
function placeLabels(spots: readonly { x: number; y: number; text: string }[], width: number, height: number): { dx: number; dy: number }[] {
  const placed: { left: number; top: number; right: number; bottom: number }[] = [];
  // Labels keep off every marker too, not only off each other.
  const dots = spots.map((spot) => ({ left: spot.x - 6, right: spot.x + 6, top: spot.y - 6, bottom: spot.y + 6 }));
  const candidates = [
    [7, -7],
    [7, 15],
    [-7, -7],
    [-7, 15],
    [7, -21],
    [7, 29],
    [-7, -21],
    [-7, 29],
  ];
  return spots.map((spot) => {
    const size = spot.text.length * LABEL_CHAR_PX;
    const boxes = candidates.map(([dx, dy]) => {
      const left = spot.x + (dx < 0 ? dx - size : dx);
      return { dx: dx < 0 ? dx - size : dx, dy, left, right: left + size, top: spot.y + dy - LABEL_HEIGHT_PX + 2, bottom: spot.y + dy + 2 };
    });
    const fits = (b: (typeof boxes)[number]) => b.left >= -4 && b.right <= width + 20 && b.top >= -TOP_MARGIN_PX && b.bottom <= height;
    type Box = { left: number; top: number; right: number; bottom: number };
    const apart = (b: Box, p: Box, gap: number) => b.right + gap <= p.left || b.left >= p.right + gap || b.bottom <= p.top || b.top >= p.bottom;
    const free = (b: Box) => placed.every((p) => apart(b, p, LABEL_GAP_PX)) && dots.every((d) => apart(b, d, 0));
    const box = boxes.find((b) => fits(b) && free(b)) ?? boxes.find(fits) ?? boxes[0];
    placed.push(box);
    return { dx: box.dx, dy: box.dy };
  });
}

export interface PruneChartOptions {
  /** Called with a marker's rows while it is hovered or focused, and with [] when it no longer is. */
  onHover?: (rows: number[]) => void;
}

export interface PruneChart {
  markers: PruneMarker[];
  /** Marks the marker of a table row (null clears), as hovering the row does. */
  highlight(row: number | null): void;
}

export function renderPruneChart(container: HTMLElement, points: readonly PrunePoint[], rows: readonly string[][], options: PruneChartOptions = {}): PruneChart {
  const { plot, width, height } = createFrame(container, 300, { top: TOP_MARGIN_PX, right: 24, bottom: 40, left: 52 }, 'Tokens saved against answers kept, one point per rule');
  container.classList.add('ts-chart-host');
  const tip = document.createElement('div');
  tip.className = 'ts-chart-tooltip';
  tip.setAttribute('role', 'tooltip');
  tip.hidden = true;
  container.append(tip);

  const percent = format('.0%');
  // Tokens saved up to the batch's largest (rounded up to a tenth), so a batch that saves little is not squeezed into a corner.
  const savedAtMost = Math.min(1, Math.max(0.1, Math.ceil(Math.max(0, ...points.map((p) => p.tokensSaved)) * 10 + 1e-9) / 10));
  const x = scaleLinear().domain([0, savedAtMost]).range([0, width]);
  const y = scaleLinear().domain([0, 1]).range([height, 0]);
  plot.append('g').attr('class', 'ts-axis').call(axisLeft(y).ticks(4).tickFormat((v) => percent(Number(v))).tickSize(-width));
  plot.append('g').attr('class', 'ts-axis').attr('transform', `translate(0,${height})`).call(axisBottom(x).ticks(4).tickFormat((v) => percent(Number(v))));
  plot.append('text').attr('class', 'ts-axis-label').attr('x', width).attr('y', height + 32).attr('text-anchor', 'end').text('tokens saved (mean) →');
  plot.append('text').attr('class', 'ts-axis-label').attr('transform', `translate(-40 ${height / 2}) rotate(-90)`).attr('text-anchor', 'middle').text('answer kept (share of traces)');

  const markers = pruneMarkers(points, rows);
  const path = line<PruneMarker>()
    .x((m) => x(m.tokensSaved))
    .y((m) => y(m.answersKept));
  if (markers.length > 1) plot.append('path').datum(markers).attr('class', 'ts-line').attr('d', path);

  function showTip(marker: PruneMarker, target: Element) {
    tip.replaceChildren(
      ...marker.tooltip.split('\n\n').map((block) => {
        const [rule, ...lines] = block.split('\n');
        const part = document.createElement('div');
        const name = document.createElement('strong');
        name.textContent = rule;
        part.append(name, ...lines.map((text) => Object.assign(document.createElement('div'), { textContent: text })));
        return part;
      }),
    );
    tip.hidden = false;
    // Beside the point (right, else left), so it hides as little of the curve as it can.
    const host = container.getBoundingClientRect();
    const box = target.getBoundingClientRect();
    const right = box.right - host.left + 10;
    const left = right + tip.offsetWidth <= host.width ? right : Math.max(0, box.left - host.left - 10 - tip.offsetWidth);
    const top = Math.min(Math.max(0, box.top - host.top + box.height / 2 - tip.offsetHeight / 2), Math.max(0, host.height - tip.offsetHeight));
    tip.style.left = `${left}px`;
    tip.style.top = `${top}px`;
    options.onHover?.(marker.rows);
  }
  function hideTip() {
    tip.hidden = true;
    options.onHover?.([]);
  }

  const groups = plot
    .append('g')
    .selectAll('g')
    .data(markers)
    .join('g')
    .attr('class', 'ts-prune-marker')
    .attr('transform', (m) => `translate(${x(m.tokensSaved)},${y(m.answersKept)})`);
  // A generous hit target around a small dot.
  groups.append('circle').attr('class', 'ts-hit').attr('r', 12);
  groups
    .append('circle')
    .attr('class', 'ts-point')
    .attr('r', 5)
    .attr('tabindex', 0)
    .attr('role', 'img')
    .attr('aria-label', (m) => m.tooltip.replace(/\n+/g, '; '));
  const labels = placeLabels(markers.map((m) => ({ x: x(m.tokensSaved), y: y(m.answersKept), text: m.label })), width, height);
  groups
    .append('text')
    .attr('class', 'ts-legend ts-marker-label')
    .attr('x', (_m, i) => labels[i].dx)
    .attr('y', (_m, i) => labels[i].dy)
    .text((m) => m.label);
  groups.on('mouseenter', (event: MouseEvent, m) => showTip(m, (event.currentTarget as SVGGElement).querySelector('.ts-point') ?? (event.currentTarget as Element))).on('mouseleave', hideTip);
  groups.select('.ts-point').on('focus', (event: FocusEvent, m) => showTip(m as PruneMarker, event.target as Element)).on('blur', hideTip);

  return {
    markers,
    highlight(row) {
      groups.classed('ts-selected', (m) => row !== null && m.rows.includes(row));
    },
  };
}
