// The folder pruning panel's webview: the batch's chart (tokens saved vs answers kept, a point per rule)
// beside its table, both drawn from the report the engine computed. The report is kept with setState,
// so a panel restored after a reload paints at once.
import { PRUNE_TABLE_COLUMNS } from '../extension/common/analysis/prune';
import {
  PruneReportHostMessageType,
  PruneReportWebviewMessageType,
  type PruneReportHostMessages,
  type PruneReportState,
  type PruneReportWebviewMessages,
  type WrittenReportFile,
} from '../extension/common/prune-report-protocol';
import { dispatchMessage, message, type MessageHandlers } from '../extension/common/webview-protocol';
import { installChartStyles, renderPruneChart, type PruneChart } from './charts';
import { h, section } from './panel/dom';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();
const nonce = (document.currentScript as HTMLScriptElement | null)?.nonce ?? '';
let shown: PruneReportState | null = (api.getState() as { report?: PruneReportState } | undefined)?.report ?? null;
let resized: ResizeObserver | null = null;

function post<K extends keyof PruneReportWebviewMessages>(type: K, body: PruneReportWebviewMessages[K]): void {
  api.postMessage(message(PruneReportWebviewMessageType, type, body));
}

const WRITTEN_NAMES: Record<WrittenReportFile, string> = { table: 'prune-table.md', chart: 'prune-chart.svg', records: 'prune-results.jsonl' };

function folderName(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).pop() ?? path;
}

function draw(root: HTMLElement, report: PruneReportState): void {
  const chartBox = h('div', { class: 'ts-chart-box' });
  // The row's number is the chart's label for its point; the cells are the engine's.
  const body = report.rows.map((cells, row) => h('tr', {}, h('th', { scope: 'row', class: 'ts-number' }, String(row + 1)), ...cells.map((cell, column) => h('td', { class: column === 0 ? '' : 'ts-number' }, cell))));
  const table = h(
    'table',
    { class: 'ts-table ts-prune-table' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', class: 'ts-number', 'aria-label': 'point' }, '#'), ...PRUNE_TABLE_COLUMNS.map((column, i) => h('th', { scope: 'col', class: i === 0 ? '' : 'ts-number' }, column)))),
    h('tbody', {}, ...body),
  );
  const written = h(
    'p',
    { class: 'ts-hint' },
    'Written for sharing to prune-report/: ',
    ...(Object.keys(WRITTEN_NAMES) as WrittenReportFile[]).flatMap((file, i) => [
      i > 0 ? ' · ' : '',
      h('a', { href: '#', class: 'ts-link', 'data-file': file, title: report.written[file] }, WRITTEN_NAMES[file]),
    ]),
  );
  written.addEventListener('click', (event) => {
    const file = (event.target as HTMLElement).closest('a')?.getAttribute('data-file') as WrittenReportFile | null;
    if (!file) return;
    event.preventDefault();
    post('openWritten', { file });
  });
  root.replaceChildren(
    h('h2', {}, `Pruning ${report.traces} trace${report.traces === 1 ? '' : 's'} of ${folderName(report.folder)}`),
    h(
      'p',
      { class: 'ts-hint' },
      'Each point is a rule, numbered as in the table: the share of the thinking tokens it removed (mean over the traces) against the share of traces whose answer the model still gives. Hover a point for all its numbers.',
    ),
    h('div', { class: 'ts-prune-layout' }, section('Tokens saved vs answer kept', chartBox), section('Per rule', h('div', { class: 'ts-table-scroll' }, table))),
    written,
  );
  const chart = drawChart(chartBox, report, body);
  body.forEach((row, index) => {
    row.addEventListener('mouseenter', () => chart.current?.highlight(index));
    row.addEventListener('mouseleave', () => chart.current?.highlight(null));
  });
  resized?.disconnect();
  resized = new ResizeObserver(() => {
    if (Math.abs(chartBox.clientWidth - chart.width) < 2) return;
    chart.redraw();
  });
  resized.observe(chartBox);
  reportDrawn(root, chart.current);
}

/** The chart, redrawn at its box's width; hovering a marker marks its rules' rows. */
function drawChart(box: HTMLElement, report: PruneReportState, rows: HTMLElement[]) {
  const state = {
    current: null as PruneChart | null,
    width: 0,
    redraw() {
      state.width = box.clientWidth;
      state.current = renderPruneChart(box, report.points, report.rows, {
        onHover: (hovered) => rows.forEach((row, index) => row.classList.toggle('ts-selected', hovered.includes(index))),
      });
    },
  };
  state.redraw();
  return state;
}

function reportDrawn(root: HTMLElement, chart: PruneChart | null): void {
  const rows = [...root.querySelectorAll('.ts-prune-table tbody tr')].map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent ?? ''));
  post('rendered', { drawn: { rows, markers: root.querySelectorAll('.ts-prune-marker').length, tooltips: chart?.markers.map((m) => m.tooltip) ?? [] } });
}

function start(): void {
  installChartStyles(document, nonce);
  const root = document.getElementById('app');
  if (!root) return;
  if (shown) draw(root, shown);
  const handlers: MessageHandlers<PruneReportHostMessages> = {
    report: ({ report }) => {
      shown = report;
      api.setState({ report });
      draw(root, report);
    },
  };
  window.addEventListener('message', (event) => dispatchMessage(PruneReportHostMessageType, handlers, event.data));
  post('ready', {});
}

start();
