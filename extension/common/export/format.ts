// Text and number formatting shared by the exporters and the charts, so every view of a trace
// shows the same values the same way.

import type { StepAnnotation, TraceFile } from '../bundle/trace-file';

/**
 * Bidi overrides/isolates/marks and C0 controls (but tab and line breaks) in text from a trace: they
 * can reorder what a reader sees (a "Trojan Source" trick), so they are shown as visible markers.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const HIDDEN_CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** Replaces each hidden control character with `marker(codePoint)`; by default "[U+202E]". */
export function revealControls(text: string, marker: (hex: string) => string = (hex) => `[U+${hex}]`): string {
  return text.replace(HIDDEN_CONTROLS, (c) => marker(c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')));
}

export function formatNumber(value: number | null, digits = 3): string {
  return value === null ? '—' : value.toFixed(digits);
}

/** The TTS as shown to a reader: "n/p" for a step with nothing to perturb, "—" when not computed. */
export function formatTts(step: Pick<StepAnnotation, 'perturbable' | 'tts'>, file?: Pick<TraceFile, 'answerCheck'>): string {
  if (!step.perturbable) return 'n/p';
  if (step.tts !== null && file?.answerCheck?.tts === 'uninformative') return 'uninformative';
  return formatNumber(step.tts, 2);
}

/** "reflection (wait)", "execution", or "—" when the step was not classified. */
export function formatSeal(step: Pick<StepAnnotation, 'sealClass' | 'sealKeyword'>): string {
  if (!step.sealClass) return '—';
  return step.sealKeyword ? `${step.sealClass} (${step.sealKeyword})` : step.sealClass;
}

/** Whitespace collapsed and cut to `limit` characters with an ellipsis, for table cells and labels. */
export function excerpt(text: string, limit: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > limit ? `${flat.slice(0, limit - 1)}…` : flat;
}
