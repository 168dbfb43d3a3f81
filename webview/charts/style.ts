// Chart styles: every colour is a custom property, so a VS Code theme (through --vscode-* values)
// or a page's light/dark scheme restyles the charts without touching the code.

export const CHART_CSS = `
:where(:root) {
  --ts-fg: var(--vscode-foreground, #1f2328);
  --ts-muted: var(--vscode-descriptionForeground, #656d76);
  --ts-grid: var(--vscode-editorWidget-border, #d0d7de);
  --ts-focus: var(--vscode-focusBorder, #0969da);
  --ts-execution: #0072b2;
  --ts-reflection: #e69f00;
  --ts-transition: #cc79a7;
  --ts-unclassified: #8c959f;
  --ts-warn: #d1242f;
  --ts-floor-band: rgba(209, 36, 47, 0.12);
  --ts-heat-negative: #b2182b;
  --ts-heat-positive: #2166ac;
}
.ts-chart { display: block; font: 11px system-ui, sans-serif; color: var(--ts-fg); overflow: visible; }
.ts-chart text { fill: var(--ts-muted); }
.ts-axis path, .ts-axis line { stroke: var(--ts-grid); }
.ts-axis text { fill: var(--ts-muted); }
.ts-threshold { stroke: var(--ts-muted); stroke-dasharray: 4 3; }
.ts-seal-execution { fill: var(--ts-execution); }
.ts-seal-reflection { fill: var(--ts-reflection); }
.ts-seal-transition { fill: var(--ts-transition); }
.ts-seal-unclassified { fill: var(--ts-unclassified); }
.ts-bar { cursor: pointer; }
.ts-bar.ts-unscored { fill-opacity: 0.35; }
.ts-bar:hover, .ts-bar:focus { outline: none; stroke: var(--ts-fg); stroke-width: 1.5px; }
.ts-bar.ts-selected { stroke: var(--ts-focus); stroke-width: 2.5px; }
.ts-chart .ts-legend { fill: var(--ts-fg); }
.ts-cell { cursor: pointer; }
.ts-heat-negative { fill: var(--ts-heat-negative); }
.ts-heat-positive { fill: var(--ts-heat-positive); }
.ts-cell:hover { stroke: var(--ts-fg); }
.ts-line { fill: none; stroke: var(--ts-execution); stroke-width: 2px; }
.ts-point { fill: var(--ts-execution); stroke: var(--ts-bg, #fff); stroke-width: 1.5px; }
.ts-point.ts-below-floor { fill: var(--ts-warn); }
.ts-point:focus { outline: none; stroke: var(--ts-focus); stroke-width: 3px; }
.ts-floor-band { fill: var(--ts-floor-band); }
.ts-floor { stroke: var(--ts-warn); stroke-dasharray: 5 3; }
.ts-strip-host, .ts-chart-host { position: relative; }
.ts-hit { fill: transparent; cursor: pointer; }
.ts-bar-group:hover .ts-bar { stroke: var(--ts-fg); stroke-width: 1.5px; }
.ts-overview-bar { fill-opacity: 0.7; }
.ts-brush .selection { fill: var(--ts-focus); fill-opacity: 0.15; stroke: var(--ts-focus); }
.ts-strip-tooltip, .ts-chart-tooltip {
  position: absolute; z-index: 10; pointer-events: none; max-width: 320px; padding: 4px 8px;
  font: 12px system-ui, sans-serif; line-height: 1.4;
  color: var(--vscode-editorHoverWidget-foreground, var(--ts-fg));
  background: var(--vscode-editorHoverWidget-background, #f6f8fa);
  border: 1px solid var(--vscode-editorHoverWidget-border, var(--ts-grid));
  border-radius: 4px; box-shadow: 0 2px 8px rgba(0, 0, 0, 0.16);
}
.ts-chart-tooltip > div + div { margin-top: 6px; }
.ts-prune-marker.ts-selected .ts-point, .ts-prune-marker:hover .ts-point { stroke: var(--ts-fg); stroke-width: 2px; }
.ts-all-low { white-space: normal; }
`;

/** Adds the chart styles to a document once; `nonce` is the page's CSP nonce for styles. */
export function installChartStyles(document: Document, nonce?: string): void {
  if (document.getElementById('ts-chart-styles')) return;
  const style = document.createElement('style');
  style.id = 'ts-chart-styles';
  if (nonce) style.nonce = nonce;
  style.textContent = CHART_CSS;
  document.head.append(style);
}
