// The panel's message protocol, shared by the extension host and the webview. Every message is
// declared once here (a type map plus a typed constant of its names); both sides dispatch through
// `dispatchMessage` with a handler object the compiler checks for completeness.
//
// Host → webview messages carry complete snapshots of their part of the state (never deltas), so a
// panel that was hidden, reloaded or restored catches up from the latest message alone.

import type { Comparison, ReplyRecord, TraceFile } from './bundle/trace-file';
import type { DirectionMetadata, DirectionMethod } from './direction';
import type { ModelInfo, SteeringChoice, SteeringMethod } from './protocol';

/** The webview panel's view type (also the serializer's key). */
export const PANEL_VIEW_TYPE = 'thinkscope.panel';

export const PANEL_VIEWS = ['steps', 'persona', 'steering'] as const;
export type PanelView = (typeof PANEL_VIEWS)[number];

export type EngineStatusText = 'stopped' | 'starting' | 'idle' | 'busy';

/** A saved direction the user loaded into the steering view: its metadata and its folder. */
export type LoadedDirection = DirectionMetadata & { path: string };

/** Tokens a steered reply may have: the default of thinkscope.generation.maxTokens, and its bounds. */
export const DEFAULT_MAX_TOKENS = 256;
export const MAX_TOKENS_LIMIT = 8192;

export function isValidMaxTokens(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= MAX_TOKENS_LIMIT;
}

/** A kind of direction in words, for messages and pickers. */
export const DIRECTION_LABELS: Record<DirectionMethod, string> = {
  truethinking: 'TrueThinking',
  seal: 'SEAL',
  'assistant-axis': 'Assistant Axis',
  selective: 'Selective Steering',
  imported: 'imported',
  custom: 'custom',
};

/** "a SEAL direction", "an Assistant Axis direction": a kind of direction in a sentence. */
export function directionOfKind(method: DirectionMethod): string {
  const label = DIRECTION_LABELS[method];
  return `${/^[AEIOU]/i.test(label) ? 'an' : 'a'} ${label} direction`;
}

/** The one-click steering settings, offered by the Steering panel and by Steer Reply…. */
export const STEERING_PRESETS = ['lessReflection', 'useThisStep', 'stayInPersona'] as const;
export type SteeringPreset = (typeof STEERING_PRESETS)[number];

export interface PresetInfo {
  label: string;
  /** reply: sets the sliders for Generate / Steer Reply…; step: steers the selected step of the analysed trace (Steer this step). */
  scope: 'reply' | 'step';
  /** The kind of direction the preset needs. */
  needs: DirectionMethod;
  method: SteeringMethod;
  /** calibrate: SEAL's c; add: the scale of the vector; unused by cap. */
  strength: number;
  /** What it does, for the button's tooltip and the picker's detail. */
  description: string;
}

export const PRESET_INFO: Record<SteeringPreset, PresetInfo> = {
  lessReflection: {
    label: 'Less reflection (SEAL)',
    scope: 'reply',
    needs: 'seal',
    method: 'calibrate',
    strength: 1,
    description: 'SEAL calibration: subtract the SEAL vector (c = 1) at its layer, only at the "\\n\\n" step-boundary tokens the model writes while thinking: fewer "Wait, let me check" steps.',
  },
  useThisStep: {
    label: 'Use this step (TrueThinking +)',
    scope: 'step',
    needs: 'truethinking',
    method: 'add',
    strength: 1,
    description: 'Steer this step: add the TrueThinking direction (+1) on the tokens of the step selected in the analysed trace, in the prompt pass, at ≈60% of the depth, and score the step again (with a random direction of the same norm as control).',
  },
  stayInPersona: {
    label: 'Stay in persona (cap)',
    scope: 'reply',
    needs: 'assistant-axis',
    method: 'cap',
    strength: 0,
    description: 'Cap the Assistant-Axis projection at its floor on its capping layers: the reply stays the Assistant.',
  },
};

/** One slider of the steering view: a loaded direction and how it steers. */
export interface SliderState {
  /** Folder of the direction (LoadedDirection.path). */
  direction: string;
  enabled: boolean;
  method: SteeringMethod;
  /** null: the method's own layers (SEAL's layer, the capping layers), else the direction's. */
  layers: number[] | null;
  /** calibrate: SEAL's c; add: scale of the vector; rotate: degrees; unused by ablate and cap. */
  strength: number;
}

export interface SteeringState {
  sliders: SliderState[];
  prompt: string;
  maxTokens: number;
  /** Also generate the unsteered reply and compare both. */
  compare: boolean;
  /** The preset that set the sliders last, until the user changes one. */
  preset: SteeringPreset | null;
}

export interface ReplyStream {
  text: string;
  done: boolean;
  /** Tokens generated so far (one snapshot per token). */
  tokens: number;
}

/** scoring: generated, and being scored as Analyze Trace scores; interrupted: the window was reloaded while the reply was being generated or scored. */
export type ReplyStatus = 'running' | 'scoring' | 'done' | 'cancelled' | 'failed' | 'interrupted';

/** Whether a reply is still being generated or scored (Cancel stops it, Generate waits). */
export function isReplyBusy(reply: { status: ReplyStatus } | null | undefined): boolean {
  return reply?.status === 'running' || reply?.status === 'scoring';
}

export interface ReplyState {
  status: ReplyStatus;
  prompt: string;
  steering: SteeringChoice[];
  baseline: ReplyStream | null;
  steered: ReplyStream;
  /** Both replies step-aligned once generation is done (keyword classes), then scored (see each reply's `scoring`). */
  comparison: Comparison | null;
  /** The steered reply scored on its own, when it was generated without a baseline to compare with. */
  scored?: ReplyRecord | null;
  warnings: string[];
  error: string | null;
  /** Whose analyses score the replies, in words ("as train.md was analysed"). */
  scoredAs?: string | null;
  /** The engine's progress in words: while scoring, which reply; before the first token, the steering blocks being added. */
  progress?: string | null;
}

/** The analysed trace the panel shows, and the document it belongs to. */
export interface ShownTrace {
  uri: string;
  file: TraceFile;
  /** The answer's readout after the latest edit of the document (or Remove / Perturb this step), when there is one. */
  whatIf?: string | null;
}

/** Everything the panel shows, but the editor selection and the reply (sent on their own). */
export interface PanelState {
  view: PanelView;
  trace: ShownTrace | null;
  model: ModelInfo | null;
  engine: EngineStatusText;
  directions: LoadedDirection[];
  /** The direction whose projection the heatmap shows (a name in the trace's projections). */
  heatmapDirection: string | null;
  steering: SteeringState;
}

/** What the webview drew, reported after each render (tests and diagnostics read it). */
export interface RenderReport {
  view: PanelView;
  traceName: string | null;
  bars: number;
  selectedBars: number[];
  heatmapDirection: string | null;
  /** Cells the heatmap draws (steps × layers of the shown series). */
  heatmapCells: number;
  personaTurns: number;
  sliders: number;
  replyStatus: ReplyStatus | null;
  alignedRows: number;
  /** The what-if readout the Steps view shows, if any. */
  whatIf: string | null;
}

/** Host → webview: message type → body. */
export interface HostMessages {
  state: { state: PanelState };
  /** Steps overlapping the editor selection in the shown trace's document. */
  selection: { steps: number[] };
  reply: { reply: ReplyState | null };
}

/** Webview → host: message type → body. */
export interface WebviewMessages {
  ready: Record<string, never>;
  selectView: { view: PanelView };
  revealStep: { index: number };
  selectDirection: { name: string };
  steeringChanged: { steering: SteeringState };
  generate: { steering: SteeringChoice[]; prompt: string; compare: boolean; maxTokens: number };
  cancel: Record<string, never>;
  loadDirection: Record<string, never>;
  removeDirection: { path: string };
  applyPreset: { preset: SteeringPreset };
  rendered: { report: RenderReport };
  /** Prune the shown trace's decorative steps (ThinkScope: Prune Decorative Thinking). */
  prune: Record<string, never>;
}

export type TypeNames<M> = { readonly [K in keyof M]: K };

export const HostMessageType: TypeNames<HostMessages> = { state: 'state', selection: 'selection', reply: 'reply' };

export const WebviewMessageType: TypeNames<WebviewMessages> = {
  ready: 'ready',
  selectView: 'selectView',
  revealStep: 'revealStep',
  selectDirection: 'selectDirection',
  steeringChanged: 'steeringChanged',
  generate: 'generate',
  cancel: 'cancel',
  loadDirection: 'loadDirection',
  removeDirection: 'removeDirection',
  applyPreset: 'applyPreset',
  rendered: 'rendered',
  prune: 'prune',
};

/** One handler per message type; the compiler reports a missing one. */
export type MessageHandlers<M> = { [K in keyof M]: (body: M[K]) => void };

/** Builds a message of one type (the only way either side constructs one). */
export function message<M, K extends keyof M>(_types: TypeNames<M>, type: K, body: M[K]): { type: K } & M[K] {
  return { type, ...body };
}

/**
 * Calls the handler of a received message; returns its type, or null (ignoring it) when `data` is not
 * a message of this protocol: both sides receive whatever is posted to their window.
 */
export function dispatchMessage<M>(types: TypeNames<M>, handlers: MessageHandlers<M>, data: unknown): keyof M | null {
  if (typeof data !== 'object' || data === null) return null;
  const type = (data as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(types, type)) return null;
  const key = type as keyof M;
  handlers[key](data as M[typeof key]);
  return key;
}

/** The steering the enabled sliders ask for, as the engine's `generate` takes it. */
export function steeringChoices(state: SteeringState): SteeringChoice[] {
  return state.sliders
    .filter((slider) => slider.enabled)
    .map(({ direction, method, layers, strength }) => ({ direction, method, strength, ...(layers ? { layers } : {}) }));
}

/** The slider's range for a method: a multiple of the vector, or an angle in degrees. */
export function strengthRange(method: SteeringMethod): { min: number; max: number; step: number; unit: string } | null {
  if (method === 'add' || method === 'calibrate') return { min: -4, max: 4, step: 0.1, unit: '×' };
  if (method === 'rotate') return { min: -180, max: 180, step: 5, unit: '°' };
  return null;
}
