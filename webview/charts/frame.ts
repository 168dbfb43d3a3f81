// The SVG frame every chart draws in: sized from its container, scaled by viewBox when printed.

import { select, type Selection } from 'd3';

export interface Margins {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export interface Frame {
  svg: Selection<SVGSVGElement, unknown, null, undefined>;
  /** The plotting area, translated by the margins. */
  plot: Selection<SVGGElement, unknown, null, undefined>;
  width: number;
  height: number;
}

export function createFrame(container: HTMLElement, height: number, margin: Margins, title: string): Frame {
  container.replaceChildren();
  const outerWidth = Math.max(240, container.clientWidth || 640);
  const svg = select(container)
    .append('svg')
    .attr('class', 'ts-chart')
    .attr('viewBox', `0 0 ${outerWidth} ${height}`)
    .attr('width', '100%')
    .attr('role', 'group')
    .attr('aria-label', title);
  const plot = svg.append('g').attr('transform', `translate(${margin.left},${margin.top})`);
  return { svg, plot, width: outerWidth - margin.left - margin.right, height: height - margin.top - margin.bottom };
}
