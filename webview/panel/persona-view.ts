// The Persona view: each assistant turn's projection onto the Assistant Axis, with the capping floor
// drawn as a band; turns inside it have drifted away from the Assistant.
import { formatNumber } from '../../extension/common/export/format';
import type { ShownTrace } from '../../extension/common/webview-protocol';
import { personaSeries, renderPersonaLine } from '../charts';
import { emptyState, h, section } from './dom';
import { noTraceState, traceSummary } from './steps-view';

export function renderPersonaView(root: HTMLElement, trace: ShownTrace | null): void {
  root.replaceChildren();
  if (!trace) {
    root.append(noTraceState());
    return;
  }
  const series = personaSeries(trace.file);
  root.append(traceSummary(trace.file));
  if (series.turns.length === 0) {
    root.append(
      emptyState(
        'No persona analysis in this trace',
        'Analyze a conversation (with User: and Assistant: turns) with the persona analysis on: each assistant turn is projected onto the Assistant Axis, and turns below the capping floor are marked.',
      ),
    );
    return;
  }
  const chart = h('div', { class: 'ts-chart-box', 'data-chart': 'persona' });
  const below = series.turns.filter((t) => t.belowFloor).length;
  const floor = series.floor === null ? 'No capping floor recorded.' : `Capping floor τ = ${formatNumber(series.floor, 2)}: ${below} of ${series.turns.length} assistant turns fall below it.`;
  const table = h('table', { class: 'ts-table' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Turn'), h('th', { scope: 'col' }, 'Projection'), h('th', { scope: 'col' }, 'Persona'))));
  const body = h('tbody');
  for (const turn of series.turns) {
    body.append(
      h(
        'tr',
        { class: turn.belowFloor ? 'ts-below-floor-row' : null },
        h('td', {}, String(turn.turn)),
        h('td', { class: 'ts-number' }, formatNumber(turn.projection, 2)),
        h('td', {}, turn.belowFloor ? 'drifted (below the floor)' : 'Assistant'),
      ),
    );
  }
  table.append(body);
  root.append(
    section(
      'Assistant-Axis projection per turn',
      h('p', { class: 'ts-hint' }, floor, ' Higher is more Assistant-like; “Stay in persona (cap)” in the Steering view lifts activations back to the floor.'),
      chart,
      table,
    ),
  );
  renderPersonaLine(chart, series);
}
