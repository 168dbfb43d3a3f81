// The steering view's state on the host side: one slider per loaded direction, presets that set
// every slider in one click, and the state a restored panel brings back. Pure: no vscode here.

import { validateTraceFile } from '../../common/bundle/trace-load';
import {
  DEFAULT_MAX_TOKENS,
  directionOfKind,
  MAX_TOKENS_LIMIT,
  PANEL_VIEWS,
  PRESET_INFO,
  isReplyBusy,
  isValidMaxTokens,
  strengthRange,
  type LoadedDirection,
  type PanelView,
  type ReplyState,
  type ShownTrace,
  type SliderState,
  type SteeringPreset,
  type SteeringState,
} from '../../common/webview-protocol';
import { capLayersOf, defaultMethodFor, methodsFor, sealLayerOf } from '../../common/steering-rule';

export function emptySteering(maxTokens = DEFAULT_MAX_TOKENS): SteeringState {
  return { sliders: [], prompt: '', maxTokens, compare: true, preset: null };
}

/** A new direction's slider: off, with its paper's method (SEAL calibration, capping, rotation; else add) and no strength. */
function defaultSlider(direction: LoadedDirection): SliderState {
  return { direction: direction.path, enabled: false, method: defaultMethodFor(direction), layers: null, strength: 0 };
}

/** One slider per loaded direction, in the directions' order, keeping what the user had set. */
export function syncSliders(steering: SteeringState, directions: LoadedDirection[]): SteeringState {
  const byPath = new Map(steering.sliders.map((slider) => [slider.direction, slider]));
  return { ...steering, sliders: directions.map((direction) => byPath.get(direction.path) ?? defaultSlider(direction)) };
}

/** The layers a reply preset steers its direction at; null: the method's own (capping: its capping layers). */
export function presetLayers(preset: SteeringPreset, direction: LoadedDirection): number[] | null {
  if (preset === 'lessReflection') return [sealLayerOf(direction)];
  return capLayersOf(direction);
}

/** The loaded direction a preset uses (the first of its kind); throws when there is none. */
export function presetDirection(preset: SteeringPreset, directions: readonly LoadedDirection[]): LoadedDirection {
  const info = PRESET_INFO[preset];
  const direction = directions.find((d) => d.method === info.needs);
  if (!direction) {
    throw new Error(`"${info.label}" needs ${directionOfKind(info.needs)}: load one with "Load Direction…" (build it with ThinkScope: Build Direction…)`);
  }
  return direction;
}

/**
 * The steering a preset asks for: its direction on, set as the preset says, every other slider off.
 * Throws when no loaded direction is of the kind the preset needs.
 */
export function applyPreset(preset: SteeringPreset, steering: SteeringState, directions: LoadedDirection[]): SteeringState {
  const info = PRESET_INFO[preset];
  const direction = presetDirection(preset, directions);
  if (info.scope === 'step') throw new Error(`"${info.label}" steers a step of an analysed trace, not a reply: select a step and use "Steer this step"`);
  const chosen: Omit<SliderState, 'direction' | 'enabled'> = { method: info.method, layers: presetLayers(preset, direction), strength: info.strength };
  const synced = syncSliders(steering, directions);
  return {
    ...synced,
    preset,
    sliders: synced.sliders.map((slider) => (slider.direction === direction.path ? { direction: direction.path, enabled: true, ...chosen } : { ...slider, enabled: false })),
  };
}

/**
 * Checks steering state sent by the webview against the loaded directions; the message says what
 * does not fit. Strengths are clamped to the method's range.
 */
export function checkSteering(value: SteeringState, directions: LoadedDirection[]): SteeringState {
  const byPath = new Map(directions.map((d) => [d.path, d]));
  if (typeof value.prompt !== 'string') throw new Error('steering state: the prompt must be text');
  if (!isValidMaxTokens(value.maxTokens)) {
    throw new Error(`steering state: max tokens must be a whole number from 1 to ${MAX_TOKENS_LIMIT}, got ${value.maxTokens}`);
  }
  const sliders = value.sliders.map((slider) => {
    const direction = byPath.get(slider.direction);
    if (!direction) throw new Error(`steering state: no loaded direction at ${slider.direction}`);
    if (!methodsFor(direction).includes(slider.method)) {
      throw new Error(`direction "${direction.name}" (${direction.method}) cannot steer with ${slider.method}; it can with ${methodsFor(direction).join(', ')}`);
    }
    const outside = slider.layers?.find((layer) => !direction.layers.includes(layer));
    if (outside !== undefined) throw new Error(`direction "${direction.name}" has no vector for layer ${outside} (it has layers ${direction.layers.join(', ')})`);
    const range = strengthRange(slider.method);
    const strength = range && Number.isFinite(slider.strength) ? Math.min(range.max, Math.max(range.min, slider.strength)) : 0;
    return { direction: slider.direction, enabled: Boolean(slider.enabled), method: slider.method, layers: slider.layers ?? null, strength };
  });
  return { sliders, prompt: value.prompt, maxTokens: value.maxTokens, compare: Boolean(value.compare), preset: value.preset ?? null };
}

/** What a panel restored after a reload brings back from the webview's saved state. */
export interface RestoredPanel {
  view: PanelView;
  trace: ShownTrace | null;
  heatmapDirection: string | null;
  steering: SteeringState | null;
  reply: ReplyState | null;
}

/**
 * Reads the state the webview saved (getState/setState) before a reload. Anything that does not
 * validate is dropped rather than shown: the panel then starts empty and follows the active editor.
 */
export function restoredPanel(saved: unknown): RestoredPanel {
  const empty: RestoredPanel = { view: 'steps', trace: null, heatmapDirection: null, steering: null, reply: null };
  if (typeof saved !== 'object' || saved === null) return empty;
  const { state, reply } = saved as { state?: Record<string, unknown>; reply?: unknown };
  if (typeof state !== 'object' || state === null) return empty;
  const view = PANEL_VIEWS.find((v) => v === state.view) ?? 'steps';
  let trace: ShownTrace | null = null;
  const shown = state.trace as { uri?: unknown; file?: unknown } | null | undefined;
  if (shown && typeof shown.uri === 'string') {
    try {
      trace = { uri: shown.uri, file: validateTraceFile(shown.file) };
    } catch {
      trace = null;
    }
  }
  const heatmapDirection = typeof state.heatmapDirection === 'string' ? state.heatmapDirection : null;
  const steering = isSteeringState(state.steering) ? state.steering : null;
  return { view, trace, heatmapDirection, steering, reply: restoredReply(reply) };
}

function isSteeringState(value: unknown): value is SteeringState {
  const s = value as SteeringState | null;
  return typeof s === 'object' && s !== null && Array.isArray(s.sliders) && typeof s.prompt === 'string' && Number.isInteger(s.maxTokens);
}

/** A reply that was still streaming or being scored when the window went away cannot resume: it is marked interrupted. */
function restoredReply(value: unknown): ReplyState | null {
  const reply = value as ReplyState | null;
  if (typeof reply !== 'object' || reply === null || typeof reply.steered?.text !== 'string' || typeof reply.prompt !== 'string') return null;
  return isReplyBusy(reply) ? { ...reply, status: 'interrupted', progress: null } : reply;
}
