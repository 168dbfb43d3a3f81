// One trace through every analysis the user asked for — steps, True Thinking Scores, SEAL classes and
// latent scores, persona drift — as one trace file. The CLI's `analyze` and the engine's
// `analyzeTrace` both run this.

import type { Direction } from '../../common/direction';
import type { DirectionRef, TraceFile } from '../../common/bundle/trace-file';
import { classifyStep, DEFAULT_SEAL_KEYWORDS, type SealClassification, type SealKeywords } from '../../common/analysis/seal';
import type { ParsedTrace, SegmentationPolicy } from '../../common/trace/types';
import type { Model } from '../model';
import { phases, type Progress } from '../runtime/progress';
import { annotateTrace, type TtsSettings } from './tts/annotate';
import type { ResumeOptions } from './tts/kept-scores';
import { annotateSeal, type SealAgreement } from './seal';
import { personaProjections } from './persona';
import { lensProjections } from './logit-lens';
import { projectedRef, stepProjections } from './step-projections';

export interface AnalyzeDocumentOptions extends Progress {
  name: string;
  toolVersion: string;
  segmentation: SegmentationPolicy;
  conversation?: number;
  model: Model | null;
  /** Score True Thinking (needs the model). */
  tts: TtsSettings | null;
  /** Classify steps by keywords (SEAL); a SEAL direction adds the latent view. */
  seal: { keywords?: SealKeywords; direction?: Direction; layer?: number } | null;
  /** Per-turn projections onto an Assistant Axis (needs the model). */
  persona: { axis: Direction; layer?: number } | null;
  /** Only the steps within the last N tokens of thinking (needs the model's tokenizer). */
  lastTokens?: number;
  /** The answer read at every layer after every step (logit lens; needs the model), kept in the steps' projections. */
  lens?: TtsSettings | null;
  onSnapshot?: (file: TraceFile) => void;
  /** True Thinking goes on from the steps a cancelled run of the same document kept, when its inputs were these. */
  resume?: ResumeOptions;
}

function sealFields(seal: SealClassification): { sealClass: SealClassification['cls']; sealKeyword: string | null } {
  return { sealClass: seal.cls, sealKeyword: seal.keyword };
}

function directionRef(direction: Direction): DirectionRef {
  const { meta } = direction;
  return { name: meta.name, method: meta.method, hook: `blocks.{l}.${meta.hook}`, layers: meta.layers, modelFingerprint: meta.model?.weightsHash ?? '' };
}

export interface AnalyzedDocument {
  file: TraceFile;
  /** Agreement between keyword classes and the latent view, when a SEAL direction was given. */
  sealAgreement: SealAgreement | null;
}

export async function analyzeDocument(trace: ParsedTrace, options: AnalyzeDocumentOptions): Promise<AnalyzedDocument> {
  const { model } = options;
  if ((options.tts || options.persona || options.seal?.direction || options.lens) && !model) throw new Error('this analysis runs the model: load a model first');
  // Keyword classes need no model: streamed snapshots carry them from the first one, before any score.
  const keywords = options.seal?.keywords ?? DEFAULT_SEAL_KEYWORDS;
  const withClasses = (f: TraceFile): TraceFile =>
    options.seal ? { ...f, steps: f.steps.map((step) => ({ ...step, ...sealFields(classifyStep(step.text, keywords)) })) } : f;
  if (options.lastTokens !== undefined && !model) throw new Error('keeping the last tokens of thinking counts them with the model\'s tokenizer: load a model first');
  // The heatmap's directions: every step projected on each of them, at every layer, after the rest.
  const projected = [options.seal?.direction, options.persona?.axis].filter((d): d is Direction => d !== undefined);
  // Weights are rough shares of the time each phase takes; TTS's packed passes dominate.
  const [ttsPhase, lensPhase, sealPhase, personaPhase, projectionPhase] = phases(options, [
    options.tts && model ? 8 : 0,
    options.lens && model ? 2 : 0,
    options.seal?.direction && model ? 1 : 0,
    options.persona && model ? 2 : 0,
    projected.length > 0 && model ? 1 : 0,
  ]);
  let file = await annotateTrace(trace, {
    name: options.name,
    toolVersion: options.toolVersion,
    segmentation: options.segmentation,
    conversation: options.conversation,
    model: options.tts ? (model ?? undefined) : undefined,
    tts: options.tts ?? undefined,
    signal: options.signal,
    report: ttsPhase.report,
    lastTokens: options.lastTokens !== undefined && model ? { tokens: options.lastTokens, tokenizer: model.tokenizer } : undefined,
    resume: options.resume,
    onSnapshot: options.onSnapshot && ((snapshot) => options.onSnapshot!(withClasses(snapshot))),
  });
  if (!options.tts && model) file = { ...file, model: model.fingerprint };

  if (options.lens && model) {
    const series = await lensProjections(model, trace, { ...options.lens, segmentation: options.segmentation, conversation: options.conversation, signal: options.signal, report: lensPhase.report });
    file = { ...file, model: model.fingerprint, steps: file.steps.map((step) => ({ ...step, projections: { ...step.projections, ...series[step.index] } })) };
    options.onSnapshot?.(withClasses(file));
  }

  let sealAgreement: AnalyzedDocument['sealAgreement'] = null;
  if (options.seal) {
    const seal = await annotateSeal(model, trace, file.steps, { ...options.seal, signal: options.signal, report: sealPhase.report });
    file = {
      ...file,
      steps: seal.steps,
      settings: { ...file.settings, sealLayer: seal.agreement?.layer ?? null },
      directions: options.seal.direction ? [directionRef(options.seal.direction)] : [],
    };
    sealAgreement = seal.agreement;
    options.onSnapshot?.(file);
  }

  if (options.persona && model) {
    const drift = await personaProjections(model, trace, options.persona.axis, {
      layer: options.persona.layer,
      conversation: options.conversation,
      signal: options.signal,
      report: personaPhase.report,
    });
    file = {
      ...file,
      turns: drift.turns,
      personaFloor: drift.floor,
      settings: { ...file.settings, personaLayer: drift.layer },
      directions: [...file.directions, directionRef(options.persona.axis)],
    };
    options.onSnapshot?.(file);
  }

  // The layer × step heatmap.
  if (model && projected.length > 0 && file.steps.length > 0) {
    const { steps, layers } = await stepProjections(model, trace, file.steps, projected, { signal: options.signal, report: projectionPhase.report });
    file = { ...file, steps, directions: file.directions.map((ref) => projectedRef(ref, layers.get(ref.name))) };
    options.onSnapshot?.(file);
  }
  return { file, sealAgreement };
}
