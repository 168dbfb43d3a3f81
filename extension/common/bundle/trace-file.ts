// The shared, versioned trace file (*.thinktrace.json): what `analyze` writes, what the extension
// opens without a model, what the exporters render. Defined once; validated on load by the schema.

import type { SealClass, SegmentationPolicy, TraceFormat } from '../trace/types';
import type { AnswerCheck } from '../analysis/tts';
import type { Precision } from '../precision';

export const TRACE_SCHEMA_ID = 'thinkscope.trace/1';
/** The version number inside TRACE_SCHEMA_ID; older files are migrated, newer ones refused. */
export const TRACE_SCHEMA_VERSION = 1;

export interface ModelFingerprint {
  /** Folder name or user label. */
  name: string;
  architecture: string;
  numLayers: number;
  hiddenSize: number;
  vocabSize: number;
  /** sha256 over the weight files' headers and sizes (see engine/checkpoint). */
  weightsHash: string;
  precision: Precision;
}

export interface StepAnnotation {
  index: number;
  /** Character range of the step in `source.text`. */
  start: number;
  end: number;
  text: string;
  /** Whether the step has a number the TTS perturbation can change; a step without one has no TTS. */
  perturbable: boolean;
  /** True Thinking Score, null when not computed or not perturbable. */
  tts: number | null;
  /** S_x(c): x = step intact (1) / perturbed (0), c = context intact (1) / perturbed (0). */
  s11: number | null;
  s01: number | null;
  s10: number | null;
  s00: number | null;
  sealClass: SealClass | null;
  sealKeyword: string | null;
  /** Projection of the step-boundary hidden state onto the SEAL vector. */
  latentScore: number | null;
  /**
   * Projection of the step onto each direction, by direction name. Entry i is the projection at
   * layer `directions[name].layers[i]` when the direction is listed in `directions`, else at layer i.
   */
  projections: Record<string, number[]>;
}

/** An assistant turn's projection onto the Assistant Axis (persona drift); range in `source.text`. */
export interface TurnProjection {
  turn: number;
  role: 'assistant';
  start: number;
  end: number;
  projection: number;
  belowFloor: boolean;
}

export interface DirectionRef {
  name: string;
  method: string;
  hook: string;
  layers: number[];
  modelFingerprint: string;
}

export interface GenerationSettings {
  maxTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  seed: number;
}

export interface SteeringRecord {
  direction: string;
  method: 'add' | 'ablate' | 'cap' | 'rotate';
  layers: number[];
  strength: number;
}

/** A generated reply; its steps' ranges are offsets into `text`. */
export interface ReplyRecord {
  text: string;
  steps: StepAnnotation[];
  /** Set when the reply was scored as Analyze Trace scores a trace (else its steps carry keyword classes only). */
  scoring?: ReplyScoring;
}

/** What scored a reply besides its steps' own fields, and what was chosen but could not be scored. */
export interface ReplyScoring {
  /** The reply's own \boxed{} answer its steps' TTS measure; null when TTS was not scored. */
  ttsAnswer: string | null;
  /** The model's own answer after the whole reply, against the scored one (when TTS was scored). */
  answerCheck: AnswerCheck | null;
  /** The SEAL direction whose latent score the steps carry; null: keyword classes only. */
  sealDirection: string | null;
  sealLayer: number | null;
  /** The Assistant Axis the reply (the assistant's turn after the prompt) was projected on; null when not. */
  axis: string | null;
  personaLayer: number | null;
  personaProjection: number | null;
  personaFloor: number | null;
  /** Analyses chosen but not scored, each with why ("no \boxed{} answer, TTS not scored"). */
  notScored: string[];
}

export interface Comparison {
  prompt: string;
  baseline: ReplyRecord;
  steered: ReplyRecord;
  /** Pairs [baseline step index, steered step index]; -1 where a step has no counterpart. */
  alignment: [number, number][];
}

/** Which steps a pruning removed: those whose TTS is below a threshold, or the lowest-TTS fraction of the scored steps. */
export interface PruneRule {
  kind: 'threshold' | 'fraction';
  value: number;
}

/** What pruning a trace removed, and the answer before and after (S in `answer`, and the model's greedy answer). */
export interface PruneRecord {
  /** The name of the trace it was pruned from. */
  original: string;
  rule: PruneRule;
  removed: { index: number; text: string; tts: number | null }[];
  answer: string;
  /** Tokens of the question and thinking, before and after. */
  tokens: { before: number; after: number };
  before: { confidence: number; greedy: string };
  after: { confidence: number; greedy: string };
}

export interface TraceFile {
  schema: typeof TRACE_SCHEMA_ID;
  tool: { name: 'thinkscope'; version: string };
  createdAt: string;
  source: { name: string; format: TraceFormat; text: string };
  model: ModelFingerprint | null;
  segmentation: SegmentationPolicy;
  settings: { cue: string; answer: string | null; seed: number; sealLayer: number | null; personaLayer: number | null };
  steps: StepAnnotation[];
  turns: TurnProjection[];
  /** The capping floor τ of the Assistant Axis: turns below it have drifted from the assistant. */
  personaFloor: number | null;
  directions: DirectionRef[];
  steering: SteeringRecord[];
  generation: GenerationSettings | null;
  comparison: Comparison | null;
  /** Set on a pruned trace: what was removed from the original and how the answer held. */
  pruning?: PruneRecord | null;
  /** Set when TTS was scored: the model's own answer after the whole trace, and whether the scores are informative. */
  answerCheck?: AnswerCheck | null;
}
