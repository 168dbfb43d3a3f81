// The hover over an analysed step: its four confidences, the TTS, the SEAL class and keyword, the
// latent score, the persona projection of its turn, what steering it did (Steer this step), and
// links to steer it or show it in the panel. Only those two commands may run from the hover's links.

import * as vscode from 'vscode';
import type { StepAnnotation, TraceFile } from '../common/bundle/trace-file';
import { legendLine, TTS_BUCKET_MEANING, ttsBucket } from '../common/annotation-legend';
import { formatNumber, formatTts } from '../common/export/format';
import { describeReadable, LENS_FIRST_TOKEN, readableLayer } from '../common/analysis/logit-lens';
import { Commands } from './command-ids';
import type { TraceResults } from './contracts';
import type { SteeredStepResult, SteeredSteps } from './steered-steps';
import { READABLE_SCHEME } from './readable-view';
import { TRACE_SCHEME } from './trace-viewer';

export interface StepReference {
  uri: string;
  step: number;
}

/** The step whose range holds `offset`, by binary search over the sorted steps. */
export function stepAt(file: TraceFile, offset: number): StepAnnotation | undefined {
  let low = 0;
  let high = file.steps.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const step = file.steps[middle];
    if (offset < step.start) high = middle - 1;
    else if (offset >= step.end) low = middle + 1;
    else return step;
  }
  return undefined;
}

/** A probability: three decimals, or two significant digits when it is that small (an untrained model). */
export function formatConfidence(value: number | null): string {
  return value !== null && value !== 0 && Math.abs(value) < 0.001 ? value.toExponential(1) : formatNumber(value);
}

/** A score of a steered step: enough digits that a small move shows. */
export function formatScore(value: number): string {
  return value !== 0 && Math.abs(value) < 0.001 ? value.toExponential(2) : value.toFixed(3);
}

/** Text from a file (a direction's name) shown literally, never as markup or a link. */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, '\\$&');
}

/** "+1 (use it)", "−1 (ignore it)": the direction of a push in words. */
export function describeScale(scale: number): string {
  const signed = `${scale >= 0 ? '+' : '−'}${Math.abs(scale)}`;
  return `${signed} (${scale >= 0 ? 'use it' : 'ignore it'})`;
}

/** The steered runs of a step as a table: the unsteered scores, then one row per push. */
function steeredMarkdown(results: readonly SteeredStepResult[]): string {
  if (results.length === 0) return '';
  const row = (label: string, s: SteeredStepResult['before']) => `| ${label} | ${[s.s11, s.s01, s.s10, s.s00, s.tts].map(formatScore).join(' | ')} |\n`;
  const names = [...new Set(results.map((r) => `“${escapeMarkdown(r.directionName)}”`))].join(', ');
  let text = `**Steered on this step** — TrueThinking direction ${names}, on the step's tokens during the prompt pass\n\n`;
  text += '| | S₁₁ | S₀₁ | S₁₀ | S₀₀ | TTS |\n|:--|--:|--:|--:|--:|--:|\n';
  text += row('not steered', results[0].before);
  for (const result of results) {
    text += row(`${describeScale(result.scale)}, layer ${result.layer}`, result.after);
    text += row(`random direction, same norm, ${describeScale(result.scale)} (control)`, result.control);
  }
  return `${text}\n`;
}

/** The logit lens of the step: from which layer its answer is readable, and where the trace first makes it so. */
function lensMarkdown(file: TraceFile, step: StepAnnotation): string {
  const series = step.projections[LENS_FIRST_TOKEN];
  if (!series) return '';
  const layer = readableLayer(series);
  const here = layer === null ? `not readable at any layer after this step (top p ${formatConfidence(Math.max(...series))})` : `readable from layer ${layer} after this step (p ${formatConfidence(series[layer])}, last layer ${formatConfidence(series[series.length - 1])})`;
  return `Logit lens: the answer's first token is ${here}; ${describeReadable(file.steps)}\n\n`;
}

/** The answer the scores are about, and what is wrong with it, if anything. */
function answerMarkdown(file: TraceFile): string {
  const check = file.answerCheck!;
  const scored = file.settings.answer ?? '';
  let text = `Scored answer “${escapeMarkdown(scored)}”, S = ${formatConfidence(check.confidence)} after the whole trace`;
  text += check.agrees ? ' (the model\'s own answer too)' : ` — **the model's own answer is “${escapeMarkdown(check.modelAnswer)}”**`;
  if (check.tts === 'uninformative') text += '. **Uninformative**: the model barely gives this answer even after the whole trace, so no step\'s score can show whether it relies on the step';
  return `${text}\n\n`;
}

function commandLink(title: string, command: string, argument: StepReference): string {
  return `[${title}](command:${command}?${encodeURIComponent(JSON.stringify([argument]))})`;
}

function stepHover(file: TraceFile, step: StepAnnotation, uri: vscode.Uri, steered: readonly SteeredStepResult[] = []): vscode.MarkdownString {
  const markdown = new vscode.MarkdownString(undefined, true);
  markdown.isTrusted = { enabledCommands: [Commands.steerStep, Commands.openPanel, Commands.removeStep, Commands.perturbStep] };
  markdown.appendMarkdown(`**ThinkScope · step ${step.index}**\n\n`);
  const scored = step.s11 !== null || step.tts !== null;
  if (scored || !step.perturbable) {
    const meaning = step.perturbable ? (step.tts === null ? '' : ` — ${TTS_BUCKET_MEANING[ttsBucket(step)]}`) : ' (no number to perturb in this step)';
    markdown.appendMarkdown(`True Thinking Score: **${formatTts(step, file)}**${meaning}\n\n`);
  }
  if (scored && file.answerCheck) markdown.appendMarkdown(answerMarkdown(file));
  if (scored) {
    markdown.appendMarkdown('| answer confidence | context intact | context perturbed |\n|:--|--:|--:|\n');
    markdown.appendMarkdown(`| step intact | S₁₁ ${formatConfidence(step.s11)} | S₁₀ ${formatConfidence(step.s10)} |\n`);
    markdown.appendMarkdown(`| step perturbed | S₀₁ ${formatConfidence(step.s01)} | S₀₀ ${formatConfidence(step.s00)} |\n\n`);
  }
  if (step.sealClass) markdown.appendMarkdown(`SEAL class: **${step.sealClass}**${step.sealKeyword ? ` (keyword “${step.sealKeyword}”)` : ''}\n\n`);
  if (step.latentScore !== null) markdown.appendMarkdown(`SEAL latent score: ${formatNumber(step.latentScore)}\n\n`);
  const turn = file.turns.find((t) => t.start <= step.start && step.end <= t.end);
  if (turn) {
    const floor = file.personaFloor === null ? '' : turn.belowFloor ? ` — below the capping floor ${formatNumber(file.personaFloor)}` : ` (floor ${formatNumber(file.personaFloor)})`;
    markdown.appendMarkdown(`Persona (Assistant Axis) of turn ${turn.turn}: ${formatNumber(turn.projection)}${floor}\n\n`);
  }
  markdown.appendMarkdown(lensMarkdown(file, step));
  markdown.appendMarkdown(steeredMarkdown(steered));
  const reference: StepReference = { uri: uri.toString(), step: step.index };
  const whatIf = file.model ? ` · ${commandLink('Remove this step', Commands.removeStep, reference)}${step.perturbable ? ` · ${commandLink("Perturb this step's numbers", Commands.perturbStep, reference)}` : ''}` : '';
  markdown.appendMarkdown(`${commandLink('Steer this step', Commands.steerStep, reference)} · ${commandLink('Show in panel', Commands.openPanel, reference)}${whatIf}`);
  // The legend of the marks, as Error Lens puts its source in a footer.
  markdown.appendMarkdown(`\n\n---\n\n*${escapeMarkdown(legendLine())}*`);
  return markdown;
}

export function registerHover(results: TraceResults, steered: SteeredSteps): vscode.Disposable {
  return vscode.languages.registerHoverProvider(
    [{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: TRACE_SCHEME }, { scheme: READABLE_SCHEME }],
    {
      provideHover(document, position) {
        const file = results.get(document.uri);
        if (!file || file.source.text !== document.getText()) return undefined;
        const step = stepAt(file, document.offsetAt(position));
        if (!step) return undefined;
        return new vscode.Hover(stepHover(file, step, document.uri, steered.of(document.uri, step)), new vscode.Range(document.positionAt(step.start), document.positionAt(step.end)));
      },
    },
  );
}
