// The engine protocol: JSON-RPC 2.0 messages, one JSON object per line, over the engine process's
// stdio or a TCP socket (`thinkscope serve`). Requests and notifications are declared once here and
// shared by the engine and the extension. Streaming results (analysis steps, reply tokens) are
// notifications that carry complete snapshots, so a client that missed one loses nothing.

import type { DirectionMetadata } from './direction';
import type { ModelFingerprint, PruneRecord, PruneRule, TraceFile } from './bundle/trace-file';
import type { SegmentationPolicy } from './trace/types';
import type { SealKeywords } from './analysis/seal';
import type { Precision } from './precision';
import type { Counterfactual } from './analysis/counterfactual';
import type { PrunePoint } from './analysis/prune';

/** Bumped when requests change incompatibly: `initialize` refuses a client that speaks another. */
export const PROTOCOL_VERSION = 2;

export interface ModelInfo extends ModelFingerprint {
  path: string;
  /** True when this load built the graph (first open of these weights). */
  built: boolean;
  loadSeconds: number;
  hasChatTemplate: boolean;
}

export interface AnalyzeParams {
  text: string;
  fileName: string;
  /** Which conversation of a multi-conversation file (JSONL line order). */
  conversation?: number;
  segmentation: SegmentationPolicy;
  tts: boolean;
  seal: boolean;
  persona: boolean;
  /** The answer at every layer after every step (logit lens), in the steps' projections. */
  lens?: boolean;
  cue?: string;
  /** The answer to score; default: the trace's \boxed{} answer (a trace without one needs this or answerFrom 'model'). */
  answer?: string;
  /** model: score the model's own answer, decoded after the whole trace and the cue. */
  answerFrom?: 'trace' | 'model';
  seed?: number;
  sealKeywords?: SealKeywords;
  sealLayer?: number;
  sealDirection?: string;
  personaLayer?: number;
  axisDirection?: string;
  /** Only the steps within the last N tokens of thinking (a trace longer than the model's positions is refused with the N that fits). */
  lastTokens?: number;
  /** Where the trace comes from (a URI): a cancelled True Thinking run of a named document is kept, and the same analysis of it again goes on where it stopped; without it nothing is kept. */
  document?: string;
  /** Score every step again, dropping the steps a cancelled run of the document kept. */
  restart?: boolean;
}

/** What a True Thinking run did with steps kept from a cancelled run of the same document. */
export type TtsResumeEvent =
  /** This run's first `kept` of `total` steps are kept (sent after every pack of steps), for a resume should it be cancelled. */
  | { kind: 'kept'; kept: number; total: number }
  /** This run goes on from a cancelled one: its first `kept` of `total` steps are not computed again. */
  | { kind: 'resumed'; kept: number; total: number }
  /** A cancelled run of the document kept steps that these inputs cannot use: `reason` says what changed. */
  | { kind: 'startedOver'; reason: string };

/** calibrate: SEAL's −c·v at "\n\n" tokens while thinking; add and ablate: at every position; cap: the Assistant Axis's floor; rotate: Selective Steering. */
export type SteeringMethod = 'calibrate' | 'add' | 'ablate' | 'cap' | 'rotate';
export const STEERING_METHODS: readonly SteeringMethod[] = ['calibrate', 'add', 'ablate', 'cap', 'rotate'];

/** One steering slider: a saved direction, how it steers, where, and how strongly. */
export interface SteeringChoice {
  /** Folder of a saved direction. */
  direction: string;
  method: SteeringMethod;
  /** Default: the method's own (SEAL's layer, the capping layers), else the direction's layers (steering-rule.ts). */
  layers?: number[];
  /** calibrate: SEAL's c (−c·v is added); add: the scale of the vector; rotate: degrees; ablate and cap: unused. */
  strength: number;
}

export interface GenerateParams {
  /** A plain prompt (rendered with the chat template when the model has one) or chat messages. */
  prompt?: string;
  messages?: { role: 'system' | 'user' | 'assistant'; content: string }[];
  steering: SteeringChoice[];
  /** Also stream the unsteered reply, then re-score both. */
  compare: boolean;
  maxTokens: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  segmentation?: SegmentationPolicy;
  /** The chat template's enable_thinking (Qwen3's switch between thinking and direct replies); unset leaves the template's default. */
  enableThinking?: boolean;
}

export interface GenerateResult {
  steered: string;
  baseline: string | null;
  /** E.g. a direction made on other weights of the same shape. */
  warnings: string[];
  /** What each steering choice applied, in words: layers, positions, rule (steering-rule.ts). */
  applied: string[];
  /** Both replies analysed (SEAL classes; TTS when an answer could be found) and step-aligned. */
  comparison: TraceFile['comparison'];
}

export interface SteerStepParams {
  text: string;
  fileName: string;
  conversation?: number;
  segmentation: SegmentationPolicy;
  step: number;
  /** Folder of a TrueThinking direction. */
  direction: string;
  layer?: number;
  /** Positive along the direction (use the step), negative against it (ignore it). */
  scale: number;
  cue?: string;
  answer?: string;
}

export interface StepScores {
  s11: number;
  s01: number;
  s10: number;
  s00: number;
  tts: number;
}

/** A step scored with and without a push along the TrueThinking direction on its tokens. */
export interface SteeredStep {
  step: number;
  layer: number;
  scale: number;
  before: StepScores;
  after: StepScores;
  /** The same push with a random direction of the same norm: the control the real direction is read against. */
  control: StepScores;
}

/** An edited trace against the analysed one: the answer's readout from the first changed token on. */
export interface CounterfactualParams {
  /** The text that was analysed (its run is kept between edits). */
  baseline: string;
  /** The same document, edited. */
  text: string;
  fileName: string;
  conversation?: number;
  segmentation: SegmentationPolicy;
  cue?: string;
  answer?: string;
}

export interface PruneParams {
  text: string;
  fileName: string;
  conversation?: number;
  segmentation: SegmentationPolicy;
  rule: PruneRule;
  /** Each step's TTS from an analysis of this text; computed when absent or not one per step. */
  scores?: (number | null)[];
  cue?: string;
  answer?: string;
  seed?: number;
}

export interface PruneResultMessage {
  /** The pruned source text, and the pruned trace file (it records what was removed). */
  text: string;
  file: TraceFile;
  record: PruneRecord;
  stepCount: number;
}

export interface PruneFolderParams {
  /** A folder of traces: every trace directly in it is pruned under every rule. */
  folder: string;
  /** The folder the table (prune-table.md), chart (prune-chart.svg) and records (prune-results.jsonl) go to. */
  out: string;
  rules: PruneRule[];
  segmentation: SegmentationPolicy;
  cue?: string;
  answer?: string;
}

export interface PruneFolderResult {
  traces: number;
  /** One point per rule: tokens saved (mean), answers kept, confidence kept (median). */
  points: PrunePoint[];
  /** The table's cells, one row per rule, in the order of PRUNE_TABLE_COLUMNS (the panel shows them as they are). */
  rows: string[][];
  /** The Markdown table, one row per rule. */
  table: string;
  written: { table: string; chart: string; records: string };
}

export interface BuildDirectionParams {
  kind: 'seal' | 'truethinking' | 'assistant-axis' | 'selective';
  /** Trace files/folders (seal, truethinking), or two prompt files (selective: [positive, negative]). */
  inputs: string[];
  out: string;
  options?: Record<string, unknown>;
}

/** Requests the client sends: method → [params, result]. */
export interface EngineRequests {
  /** The first request on a connection; `token` is required by an engine served over TCP. */
  initialize: [{ client: string; protocol?: number; token?: string }, { protocol: number; version: string; pid: number }];
  /** memoryBudgetMib: MiB one forward may use beyond the weights and KV caches (0 or absent: the engine's default). */
  loadModel: [{ path: string; threads?: number; precision?: Precision; memoryBudgetMib?: number }, ModelInfo];
  analyzeTrace: [AnalyzeParams, TraceFile];
  generate: [GenerateParams, GenerateResult];
  steerStep: [SteerStepParams, SteeredStep];
  buildDirection: [BuildDirectionParams, DirectionMetadata & { path: string }];
  describeDirection: [{ path: string }, DirectionMetadata & { path: string }];
  counterfactual: [CounterfactualParams, Counterfactual];
  prune: [PruneParams, PruneResultMessage];
  pruneFolder: [PruneFolderParams, PruneFolderResult];
}

/** Notifications the engine sends while a request runs. */
export interface EngineNotifications {
  /** `done`/`total` count the current phase; `overall` (0..1) is the whole request's share done, when it has phases. */
  progress: { requestId: number; message: string; done: number; total: number; overall?: number };
  analysisSnapshot: { requestId: number; file: TraceFile };
  ttsResume: { requestId: number; event: TtsResumeEvent };
  replySnapshot: { requestId: number; stream: 'baseline' | 'steered'; text: string; done: boolean };
}

export type RequestMethod = keyof EngineRequests;
export type NotificationMethod = keyof EngineNotifications;

/** Error codes beyond JSON-RPC's own. */
export const ErrorCodes = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
  cancelled: -32800,
  noModel: 1,
  userError: 2,
  /** No token, a wrong token, or a request before `initialize`: the engine closes the connection. */
  unauthorized: 3,
} as const;

export class RemoteError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

export const CANCEL_METHOD = '$/cancelRequest';
