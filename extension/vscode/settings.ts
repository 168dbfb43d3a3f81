// The `thinkscope.*` settings, read in one place and turned into engine parameters.

import * as vscode from 'vscode';
import { validateSealKeywords } from '../common/analysis/seal';
import type { AnalyzeParams, EngineRequests } from '../common/protocol';
import { SEGMENTATION_POLICIES, type SegmentationPolicy } from '../common/trace/types';
import { DEFAULT_MAX_TOKENS, isValidMaxTokens } from '../common/webview-protocol';
import { DEFAULT_PRECISION, type Precision } from '../common/precision';

export type DecorationStyle = 'inline' | 'background' | 'off';

function settings(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('thinkscope');
}

export function configuredModelPath(): string {
  return settings().get<string>('modelPath', '').trim();
}

export function engineSettings(): { location: string } {
  return { location: settings().get<string>('engine.location', 'local').trim() || 'local' };
}

/** What loadModel needs besides the folder: the threads and precision settings. */
export function loadModelParams(path: string): EngineRequests['loadModel'][0] {
  const threads = settings().get<number>('engine.threads', 0);
  const memoryBudgetMib = settings().get<number>('engine.memoryBudget', 0);
  return { path, threads: threads > 0 ? threads : undefined, precision: settings().get<Precision>('engine.precision', DEFAULT_PRECISION), memoryBudgetMib: memoryBudgetMib > 0 ? memoryBudgetMib : undefined };
}

export function segmentation(): SegmentationPolicy {
  const policy = settings().get<string>('segmentation', 'sentence') as SegmentationPolicy;
  return SEGMENTATION_POLICIES.includes(policy) ? policy : 'sentence';
}

/** Tokens a steered reply may have (Steer Reply…, the panel's Generate default). */
export function generationMaxTokens(): number {
  const tokens = settings().get<number>('generation.maxTokens', DEFAULT_MAX_TOKENS);
  return isValidMaxTokens(tokens) ? tokens : DEFAULT_MAX_TOKENS;
}

/** How long typing must pause before an edited trace's answer is read again. */
export function counterfactualDelayMs(): number {
  return Math.max(0, settings().get<number>('counterfactual.delayMs', 300));
}

export interface DecorationSettings {
  style: DecorationStyle;
  /** "Notable steps only": decorate only steps whose TTS is at least this; null decorates every step. */
  notableTts: number | null;
  /** A border around each step, besides its tint. */
  stepBorders: boolean;
}

export function decorationSettings(): DecorationSettings {
  const style = settings().get<string>('decorations.style', 'inline');
  const notable = settings().get<number | null>('decorations.notableTts', null);
  return {
    style: style === 'background' || style === 'off' ? style : 'inline',
    notableTts: typeof notable === 'number' && notable > 0 ? notable : null,
    stepBorders: settings().get<boolean>('decorations.stepBorders', false) === true,
  };
}

function optionalLayer(key: string): number | undefined {
  const layer = settings().get<number | null>(key, null);
  return typeof layer === 'number' ? layer : undefined;
}

/** The analysis request for a text, from the settings; a bad keyword setting is one clear error. */
export function analyzeParams(text: string, fileName: string, analyses: { tts: boolean; seal: boolean; persona: boolean; lens?: boolean }): AnalyzeParams {
  let sealKeywords;
  try {
    sealKeywords = validateSealKeywords(settings().get('seal.keywords'));
  } catch (error) {
    throw new Error(`The setting thinkscope.seal.keywords is not usable: ${(error as Error).message}`);
  }
  return {
    text,
    fileName,
    segmentation: segmentation(),
    ...analyses,
    cue: settings().get<string>('tts.cue'),
    sealKeywords,
    sealLayer: optionalLayer('seal.layer'),
    personaLayer: optionalLayer('persona.layer'),
  };
}
