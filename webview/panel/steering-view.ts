// The Steering view's controls: presets, one slider per loaded direction (a native range input: the
// toolkit has none) with its method and layer, the prompt, and Generate / Cancel.
import { excerpt, formatNumber } from '../../extension/common/export/format';
import type { SteeringMethod } from '../../extension/common/protocol';
import {
  directionOfKind,
  MAX_TOKENS_LIMIT,
  PRESET_INFO,
  STEERING_PRESETS,
  isValidMaxTokens,
  strengthRange,
  type LoadedDirection,
  type PanelState,
  type SliderState,
  type SteeringPreset,
  type SteeringState,
} from '../../extension/common/webview-protocol';
import { choiceLayers, describeRule, methodsFor, steeringRule } from '../../extension/common/steering-rule';
import { emptyState, h, section, toolkit, traceText } from './dom';

export interface SteeringActions {
  changed(steering: SteeringState): void;
  generate(steering: SteeringState): void;
  cancel(): void;
  loadDirection(): void;
  removeDirection(path: string): void;
  applyPreset(preset: SteeringPreset): void;
}

const METHOD_LABELS: Record<SteeringMethod, string> = { calibrate: 'SEAL calibration', add: 'add at every position', ablate: 'ablate at every position', cap: 'cap at τ', rotate: 'rotate' };
const METHOD_HELP: Record<SteeringMethod, string> = {
  calibrate: 'SEAL: subtract c times the vector at the SEAL layer, only at the "\\n\\n" step-boundary tokens the model writes while thinking',
  add: 'Add the direction times the strength at every position, prompt and reply (negative pushes away from it)',
  ablate: 'Remove the direction from the activations',
  cap: 'Lift activations whose projection falls below the floor τ back to it',
  rotate: 'Rotate activations in the direction\'s plane by the angle',
};

function layerSpan(layers: readonly number[]): string {
  if (layers.length === 0) return 'none';
  const contiguous = layers.every((l, i) => i === 0 || l === layers[i - 1] + 1);
  return contiguous && layers.length > 2 ? `${layers[0]}–${layers[layers.length - 1]}` : layers.join(', ');
}

function strengthText(slider: SliderState): string {
  const range = strengthRange(slider.method);
  if (!range) return slider.method === 'cap' ? 'floor τ' : 'removed';
  return slider.method === 'rotate' ? `${formatNumber(slider.strength, 0)}°` : `${slider.strength >= 0 ? '+' : '−'}${formatNumber(Math.abs(slider.strength), 1)}×`;
}

/** What Generate will apply, exactly: per switched-on direction its rule, hook points, layers and positions. */
function steeringSummary(steering: SteeringState, directions: readonly LoadedDirection[]): string {
  const on = steering.sliders.filter((s) => s.enabled);
  if (on.length === 0) return 'No direction is switched on: the steered reply will be unsteered.';
  const describe = (s: SliderState) => {
    const direction = directions.find((d) => d.path === s.direction);
    if (!direction) return traceText(s.direction);
    return `${traceText(direction.name)}: ${describeRule(steeringRule(direction, { method: s.method, layers: s.layers ?? undefined, strength: s.strength }))}`;
  };
  return `Will apply: ${on.map(describe).join('; ')}`;
}

export function renderSteeringControls(root: HTMLElement, state: PanelState, running: boolean, actions: SteeringActions): void {
  root.replaceChildren();
  const steering: SteeringState = structuredClone(state.steering);
  const summary = h('p', { class: 'ts-steering-summary', 'aria-live': 'polite' });
  // A slider change leaves the preset's settings; the prompt and its options do not.
  const changed = (keepPreset = false) => {
    if (!keepPreset) steering.preset = null;
    summary.textContent = steeringSummary(steering, state.directions);
    actions.changed(steering);
  };

  // Presets
  // Compact: presets, directions and the prompt in one section, so the replies below stay in view.
  const presets = h(
    'div',
    { class: 'ts-row ts-wrap ts-presets', role: 'group', 'aria-label': 'Presets', title: 'A reply preset switches on one direction with its paper\'s rule and switches the others off; "Use this step" steers the step selected in the analysed trace.' },
    h('span', { class: 'ts-muted ts-inline-label' }, 'Presets'),
  );
  for (const preset of STEERING_PRESETS) {
    const info = PRESET_INFO[preset];
    const available = state.directions.some((d) => d.method === info.needs);
    const button = toolkit(
      'vscode-button',
      {
        appearance: steering.preset === preset ? 'primary' : 'secondary',
        disabled: !available,
        title: available ? info.description : `${info.description} Load ${directionOfKind(info.needs)} first.`,
        'aria-label': `${info.label}${available ? '' : ` (needs ${directionOfKind(info.needs)})`}`,
        'data-preset': preset,
      },
      info.label,
    );
    button.addEventListener('click', () => actions.applyPreset(preset));
    presets.append(button);
  }

  // Sliders
  const list = h('div', { class: 'ts-sliders' });
  if (state.directions.length === 0) {
    list.append(
      emptyState(
        'No directions loaded',
        'Load a saved direction (a folder made by “ThinkScope: Build Direction…” or `thinkscope direction`) to get a slider for it.',
      ),
    );
  }
  for (const direction of state.directions) {
    const slider = steering.sliders.find((s) => s.direction === direction.path);
    if (slider) list.append(sliderRow(direction, slider, () => changed(), actions));
  }
  const load = toolkit('vscode-button', { appearance: 'secondary', 'data-action': 'load-direction' }, 'Load Direction…');
  load.addEventListener('click', () => actions.loadDirection());
  const directions = h('div', { class: 'ts-row ts-directions-head' }, h('span', { class: 'ts-muted ts-inline-label' }, 'Directions'), load);

  // Prompt and Generate
  const prompt = toolkit('vscode-text-area', { rows: 2, resize: 'vertical', placeholder: 'What should the model answer? e.g. “A train leaves at 3:40 pm …”', class: 'ts-prompt' }, 'Prompt');
  (prompt as HTMLTextAreaElement).value = steering.prompt;
  prompt.addEventListener('input', () => {
    steering.prompt = (prompt as HTMLTextAreaElement).value;
    changed(true);
  });
  const maxTokens = toolkit('vscode-text-field', { type: 'number', min: 1, max: MAX_TOKENS_LIMIT, size: 6, class: 'ts-max-tokens', 'aria-label': 'Max tokens', title: `Tokens each reply may have (1 to ${MAX_TOKENS_LIMIT})` });
  (maxTokens as HTMLInputElement).value = String(steering.maxTokens);
  maxTokens.addEventListener('change', () => {
    const value = Number((maxTokens as HTMLInputElement).value);
    if (isValidMaxTokens(value)) {
      steering.maxTokens = value;
      changed(true);
    } else {
      (maxTokens as HTMLInputElement).value = String(steering.maxTokens);
    }
  });
  const compare = toolkit('vscode-checkbox', { checked: steering.compare, title: 'Also generate the unsteered reply (in the same batch), and score and compare both' }, 'Compare with unsteered');
  compare.addEventListener('change', () => {
    steering.compare = (compare as HTMLInputElement).checked;
    changed(true);
  });
  const generate = toolkit('vscode-button', { appearance: 'primary', disabled: running, 'data-action': 'generate' }, running ? 'Generating…' : 'Generate');
  generate.addEventListener('click', () => actions.generate(steering));
  const cancel = toolkit('vscode-button', { appearance: 'secondary', disabled: !running, 'data-action': 'cancel' }, 'Cancel');
  cancel.addEventListener('click', () => actions.cancel());
  summary.textContent = steeringSummary(steering, state.directions);
  const modelNote = state.model
    ? null
    : h('p', { class: 'ts-note' }, 'No model loaded yet: Generate starts the engine with the checkpoint of “ThinkScope: Select Model…”.');
  root.append(section('Steering', presets, directions, list, prompt, h('div', { class: 'ts-row ts-wrap ts-generate-row' }, h('span', { class: 'ts-muted' }, 'Max tokens'), maxTokens, compare, generate, cancel), summary, modelNote));
}

function sliderRow(direction: LoadedDirection, slider: SliderState, changed: () => void, actions: SteeringActions): HTMLElement {
  const name = traceText(direction.name);
  const row = h('div', { class: `ts-slider-row${slider.enabled ? '' : ' ts-off'}`, 'data-direction': direction.path, role: 'group', 'aria-label': `Direction ${name}` });
  const enabled = toolkit('vscode-checkbox', { checked: slider.enabled, title: 'Use this direction when generating' }, excerpt(name, 40));
  const method = toolkit('vscode-dropdown', { 'aria-label': `Method for ${name}` });
  for (const m of methodsFor(direction)) method.append(toolkit('vscode-option', { value: m, selected: m === slider.method, title: METHOD_HELP[m] }, METHOD_LABELS[m]));
  const layer = toolkit('vscode-dropdown', { 'aria-label': `Layers for ${name}` });
  const range = h('input', { type: 'range', class: 'ts-range', 'aria-label': `Strength of ${name}` });
  const value = h('output', { class: 'ts-strength', 'aria-live': 'off' });
  // The slider shows its limits and its zero (no steering): a tick there, and the three values under it.
  const ticks = h('datalist', { id: `ts-ticks-${direction.path.replace(/[^A-Za-z0-9]/g, '_')}` }, h('option', { value: '0' }));
  range.setAttribute('list', ticks.id);
  const scale = h('div', { class: 'ts-range-scale', 'aria-hidden': 'true' });
  const rangeBox = h('div', { class: 'ts-range-box' }, range, ticks, scale);
  const remove = toolkit('vscode-button', { appearance: 'icon', title: `Remove ${name} from the list`, 'aria-label': `Remove ${name}` }, '✕');

  const fillLayers = () => {
    const own = choiceLayers(direction, { method: slider.method });
    const ownName = slider.method === 'cap' ? 'capping layers' : slider.method === 'calibrate' ? 'SEAL layer' : 'its layers';
    layer.replaceChildren(toolkit('vscode-option', { value: '', selected: slider.layers === null }, `${ownName} (${layerSpan(own)})`));
    for (const l of direction.layers) {
      layer.append(toolkit('vscode-option', { value: String(l), selected: slider.layers?.length === 1 && slider.layers[0] === l }, `layer ${l}`));
    }
    (layer as HTMLSelectElement).value = slider.layers?.length === 1 ? String(slider.layers[0]) : '';
  };
  const fillRange = () => {
    const limits = strengthRange(slider.method);
    // Ablation and capping have no strength: the range gives way to what they do.
    rangeBox.hidden = limits === null;
    scale.replaceChildren(...(limits ? [limits.min, 0, limits.max].map((v) => h('span', {}, `${v > 0 ? '+' : v < 0 ? '−' : ''}${Math.abs(v)}${limits.unit}`)) : []));
    range.min = String(limits?.min ?? 0);
    range.max = String(limits?.max ?? 1);
    range.step = String(limits?.step ?? 1);
    range.value = String(limits ? slider.strength : 0);
    value.textContent = strengthText(slider);
    range.setAttribute('aria-valuetext', strengthText(slider));
  };
  fillLayers();
  fillRange();

  enabled.addEventListener('change', () => {
    slider.enabled = (enabled as HTMLInputElement).checked;
    row.classList.toggle('ts-off', !slider.enabled);
    changed();
  });
  method.addEventListener('change', (event) => {
    event.stopPropagation();
    slider.method = (method as HTMLSelectElement).value as SteeringMethod;
    const limits = strengthRange(slider.method);
    slider.strength = limits ? Math.min(limits.max, Math.max(limits.min, slider.strength)) : 0;
    fillLayers();
    fillRange();
    changed();
  });
  layer.addEventListener('change', (event) => {
    event.stopPropagation();
    const chosen = (layer as HTMLSelectElement).value;
    slider.layers = chosen === '' ? null : [Number(chosen)];
    changed();
  });
  range.addEventListener('input', () => {
    slider.strength = Number(range.value);
    // Moving a slider means using it.
    if (!slider.enabled) {
      slider.enabled = true;
      (enabled as HTMLInputElement).checked = true;
      row.classList.remove('ts-off');
    }
    value.textContent = strengthText(slider);
    range.setAttribute('aria-valuetext', strengthText(slider));
    changed();
  });
  remove.addEventListener('click', () => actions.removeDirection(direction.path));

  const detail = `${direction.method} · ${direction.hook} · layers ${layerSpan(direction.layers)}${direction.model ? ` · made on ${direction.model.name}` : ''}`;
  row.append(
    h('div', { class: 'ts-slider-head' }, enabled, h('span', { class: 'ts-muted ts-ellipsis', title: traceText(direction.signConvention) }, traceText(detail)), remove),
    h('div', { class: 'ts-slider-controls' }, method, layer, rangeBox, value),
  );
  return row;
}
