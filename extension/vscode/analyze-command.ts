// "ThinkScope: Analyze Trace": the active document (or its selection) analysed by the engine, with
// the analyses the user picks (remembered). Snapshots decorate the document step by step while the
// engine works; Cancel stops the engine and keeps the steps scored so far, and Resume goes on from
// there (the engine keeps a cancelled True Thinking run's steps for the same inputs: kept-scores.ts).

import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { TraceFile } from '../common/bundle/trace-file';
import type { EngineNotifications, TtsResumeEvent } from '../common/protocol';
import { Commands } from './command-ids';
import type { EngineClient, TraceResults } from './contracts';
import type { AnalysisDirections } from './analysis-directions';
import type { ModelSelection } from './model-selection';
import { isCancelled, reportFailure, withEngineProgress } from './progress';
import { isJsonTrace } from './readable-view';
import { analyzeParams } from './settings';
import { answerWarnings } from '../common/analysis/tts';
import { boxedAnswer } from '../common/trace/query';

export interface Analyses {
  tts: boolean;
  seal: boolean;
  persona: boolean;
  lens: boolean;
}

/** Arguments a caller (CodeLens, a test) may pass instead of the user's choices. */
export interface AnalyzeArguments extends Partial<Analyses> {
  uri?: string | vscode.Uri;
  /** Folder of the SEAL direction for the latent score; null: keyword classes only. Default: the workspace's choice. */
  sealDirection?: string | null;
  /** Folder of the Assistant Axis for persona drift. Default: the workspace's choice. */
  axisDirection?: string;
  /** Only the steps within the last N tokens of thinking (what a trace longer than the model's context is offered). */
  lastTokens?: number;
  /** The answer to score (default: the trace's \\boxed{} answer). */
  answer?: string;
  /** model: score the model's own answer after the whole trace. */
  answerFrom?: 'trace' | 'model';
  /** The part of the document to analyse (default: the editor's selection when run from the palette, else the whole document). */
  range?: vscode.Range;
  /** Score every step again, dropping the steps a cancelled run of the document kept (default: go on from them when the inputs are the same). */
  restart?: boolean;
}

type AnswerChoice = Pick<AnalyzeArguments, 'answer' | 'answerFrom'>;

const OWN_ANSWER = 'Score the model\'s own answer';
const TRACE_ANSWER = 'Score the trace\'s answer';

/** A trace without a \\boxed{} answer: which answer to score, picked by the user (never the whole reply). */
async function pickAnswer(): Promise<AnswerChoice | undefined> {
  const picked = await vscode.window.showQuickPick(
    [
      { label: OWN_ANSWER, detail: 'The answer the model itself gives after the whole thinking and “The final answer is \\boxed{”', choice: { answerFrom: 'model' } as AnswerChoice },
      { label: 'Type the answer to score…', detail: 'The text whose probability each step’s True Thinking Score measures', choice: null },
    ],
    { title: 'ThinkScope: the trace has no \\boxed{} answer', placeHolder: 'Which answer should the True Thinking Score measure?' },
  );
  if (!picked) return undefined;
  if (picked.choice) return picked.choice;
  const answer = await vscode.window.showInputBox({ title: 'ThinkScope: the answer to score', prompt: 'e.g. 42', validateInput: (value) => (value.trim() ? undefined : 'The answer is empty') });
  return answer ? { answer } : undefined;
}

const ANALYSES_KEY = 'thinkscope.analyses';
const DEFAULT_ANALYSES: Analyses = { tts: true, seal: true, persona: false, lens: true };
const ANALYSIS_ITEMS: { key: keyof Analyses; label: string; detail: string }[] = [
  { key: 'tts', label: 'True Thinking Score', detail: 'How much each step drives the answer (4 model runs per step)' },
  { key: 'seal', label: 'SEAL classes', detail: 'Execution, reflection or transition, per step' },
  { key: 'persona', label: 'Persona drift', detail: 'Each assistant turn projected onto the Assistant Axis' },
  { key: 'lens', label: 'Logit lens', detail: "The answer's probability at every layer after every step (one packed pass per pack of steps)" },
];

/** The analyses the user last picked for Analyze Trace (the defaults before the first pick). */
export function rememberedAnalyses(state: vscode.Memento): Analyses {
  return { ...DEFAULT_ANALYSES, ...state.get<Partial<Analyses>>(ANALYSES_KEY) };
}

async function chooseAnalyses(state: vscode.Memento): Promise<Analyses | undefined> {
  const remembered = rememberedAnalyses(state);
  const items = ANALYSIS_ITEMS.map((item) => ({ ...item, picked: remembered[item.key] }));
  const picked = await vscode.window.showQuickPick(items, { canPickMany: true, title: 'ThinkScope: Analyze Trace', placeHolder: 'Analyses to run' });
  if (!picked || picked.length === 0) return undefined;
  const chosen: Analyses = { tts: false, seal: false, persona: false, lens: false };
  for (const item of picked) chosen[item.key] = true;
  await state.update(ANALYSES_KEY, chosen);
  return chosen;
}

/** The engine's file for a part of the document placed in the whole: ranges moved by where the part starts. */
function placed(file: TraceFile, documentText: string, offset: number): TraceFile {
  const move = <T extends { start: number; end: number }>(item: T): T => ({ ...item, start: item.start + offset, end: item.end + offset });
  return { ...file, source: { ...file.source, text: documentText }, steps: file.steps.map(move), turns: file.turns.map(move) };
}

async function documentFor(argument: AnalyzeArguments): Promise<vscode.TextDocument | undefined> {
  if (argument.uri) return vscode.workspace.openTextDocument(typeof argument.uri === 'string' ? vscode.Uri.parse(argument.uri) : argument.uri);
  return vscode.window.activeTextEditor?.document;
}

export function registerAnalyze(
  context: vscode.ExtensionContext,
  engine: EngineClient,
  results: TraceResults,
  models: ModelSelection,
  analysisDirections: AnalysisDirections,
  log: vscode.LogOutputChannel,
): void {
  /** The directions the chosen analyses read; undefined when the user cancelled a choice. */
  async function directionsFor(analyses: Analyses, options: AnalyzeArguments, document: vscode.TextDocument): Promise<{ sealDirection?: string; axisDirection?: string } | undefined> {
    const chosen: { sealDirection?: string; axisDirection?: string } = {};
    if (analyses.persona) {
      const axis = options.axisDirection ?? (await analysisDirections.resolve('assistant-axis', document))?.path;
      if (!axis) return undefined;
      chosen.axisDirection = axis;
    }
    if (analyses.seal) {
      let seal: string | null | undefined = options.sealDirection;
      // Keyword classes need no direction: without a saved SEAL direction the analysis runs and the
      // latent score is offered afterwards instead of blocking it.
      if (seal === undefined && (analysisDirections.remembered('seal') || analysisDirections.usable('seal').length > 0)) {
        const resolved = await analysisDirections.resolve('seal', document);
        if (!resolved) return undefined;
        seal = resolved.path;
      }
      if (seal) chosen.sealDirection = seal;
    }
    return chosen;
  }

  function offerSealDirection(document: vscode.TextDocument): void {
    void vscode.window
      .showInformationMessage('SEAL classes come from keywords here. A SEAL direction adds the latent score (the model\'s own view of each step).', 'Choose or Build a SEAL Direction…')
      .then(async (action) => {
        if (!action) return;
        const choice = await analysisDirections.ask('seal', document);
        if (choice?.path) await vscode.commands.executeCommand(Commands.analyzeTrace, { uri: document.uri, seal: true, tts: false, persona: false, sealDirection: choice.path });
      });
  }

  async function analyze(argument: unknown): Promise<TraceFile | undefined> {
    const options: AnalyzeArguments = argument instanceof vscode.Uri ? { uri: argument } : ((argument as AnalyzeArguments | undefined) ?? {});
    const document = await documentFor(options);
    if (!document) {
      void vscode.window.showErrorMessage('Analyze Trace: open a trace (Markdown or text with <think>, or a chat JSON/JSONL) first.');
      return undefined;
    }
    const editor = vscode.window.activeTextEditor?.document === document ? vscode.window.activeTextEditor : undefined;
    const selection = options.range ?? (!options.uri && editor && !editor.selection.isEmpty ? editor.selection : undefined);
    const analyses: Analyses | undefined =
      options.tts !== undefined || options.seal !== undefined || options.persona !== undefined || options.lens !== undefined
        ? { tts: options.tts ?? false, seal: options.seal ?? false, persona: options.persona ?? false, lens: options.lens ?? false }
        : await chooseAnalyses(context.globalState);
    if (!analyses) return undefined;
    let answer: AnswerChoice = { answer: options.answer, answerFrom: options.answerFrom };
    const scoredText = selection ? document.getText(selection) : document.getText();
    if (analyses.tts && answer.answer === undefined && answer.answerFrom === undefined && boxedAnswer(scoredText) === null) {
      const picked = await pickAnswer();
      if (!picked) return undefined;
      answer = picked;
    }
    if (!(await models.ensureModel())) return undefined;
    const directions = await directionsFor(analyses, options, document);
    if (!directions) return undefined;

    // Read once: snapshots are only placed while the document is unchanged.
    const documentText = document.getText();
    const text = selection ? document.getText(selection) : documentText;
    const offset = selection ? document.offsetAt(selection.start) : 0;
    const version = document.version;
    const name = basename(document.uri.path);
    const current = () => document.version === version;
    // A failed run must not leave its early snapshots (keyword classes) looking like an analysis.
    const previous = results.get(document.uri);
    // The same analysis again, for Resume and Start Over after a cancel.
    const again: AnalyzeArguments = { ...analyses, ...answer, uri: document.uri, range: selection, sealDirection: directions.sealDirection ?? null, axisDirection: directions.axisDirection, lastTokens: options.lastTokens };
    let kept: Extract<TtsResumeEvent, { kind: 'kept' }> | undefined;
    try {
      const params = {
        ...analyzeParams(text, name, analyses),
        ...directions,
        document: document.uri.toString(),
        ...(options.restart ? { restart: true } : {}),
        ...(options.lastTokens ? { lastTokens: options.lastTokens } : {}),
        ...(answer.answer !== undefined ? { answer: answer.answer } : {}),
        ...(answer.answerFrom ? { answerFrom: answer.answerFrom } : {}),
      };
      const file = await withEngineProgress(`ThinkScope: Analyzing ${name}`, (task) =>
        engine.request('analyzeTrace', params, {
          signal: task.signal,
          onNotification: task.listener((method, notification) => {
            if (method === 'analysisSnapshot' && current()) results.set(document.uri, placed((notification as EngineNotifications['analysisSnapshot']).file, documentText, offset));
            if (method === 'ttsResume') {
              const { event } = notification as EngineNotifications['ttsResume'];
              // What a cancel would leave kept: this run's steps, or those it resumed from.
              if (event.kind === 'kept') kept = event;
              else sayResumed(name, event);
              if (event.kind === 'resumed') kept = { kind: 'kept', kept: event.kept, total: event.total };
            }
          }),
        }),
      );
      if (!current()) {
        void vscode.window.showWarningMessage(`${name} changed while it was analysed: run Analyze Trace again to score the new text.`);
        return undefined;
      }
      const result = placed(file, documentText, offset);
      results.set(document.uri, result);
      log.info(`analysed ${name}: ${result.steps.length} steps`);
      if (result.answerCheck) void warnAboutAnswer(result, { ...analyses, uri: document.uri });
      if (analyses.seal && !directions.sealDirection && options.sealDirection === undefined) offerSealDirection(document);
      // A JSON trace is hard to read: its thinking decoded, one step per line, opens beside it.
      if (isJsonTrace(result.source.format) && document.uri.scheme === 'file') await vscode.commands.executeCommand(Commands.showReadableTrace, document.uri);
      return result;
    } catch (error) {
      if (isCancelled(error)) {
        log.info(`Analyze Trace (${name}): cancelled${kept ? ` with ${kept.kept} of ${kept.total} steps scored` : ''}`);
        if (kept) offerResume(name, kept, again);
        else void vscode.window.showInformationMessage('Analysis cancelled; the steps scored so far are kept.');
        return undefined;
      }
      // Scores the model computed before the failure (an engine that died mid-run) are kept; a run
      // that failed before any is undone, so it does not look analysed.
      const partial = results.get(document.uri);
      if (partial !== previous && !(partial && hasModelScores(partial))) {
        if (previous) results.set(document.uri, previous);
        else results.delete(document.uri);
      }
      const overflow = contextOverflow(error);
      if (overflow) {
        log.warn(`Analyze Trace (${name}): ${(error as Error).message}`);
        offerShorterTrace(document, overflow, { ...analyses, ...directions }, selection !== undefined);
      }
      else reportFailure(log, `Analyze Trace (${name})`, error);
      return undefined;
    }
  }

  /** Resume goes on from the steps the engine kept (when the document and choices are still the same); Start Over scores every step again. */
  function offerResume(name: string, kept: { kept: number; total: number }, again: AnalyzeArguments): void {
    const resume = 'Resume';
    const startOver = 'Start Over';
    const where = kept.kept < kept.total ? `Resume goes on at step ${kept.kept + 1}.` : 'Resume completes the other analyses.';
    void vscode.window
      .showInformationMessage(`Analysis of ${name} cancelled after ${kept.kept} of ${kept.total} steps scored: they are kept. ${where}`, resume, startOver)
      .then(async (action) => {
        if (action === resume) await vscode.commands.executeCommand(Commands.analyzeTrace, again);
        if (action === startOver) await vscode.commands.executeCommand(Commands.analyzeTrace, { ...again, restart: true });
      });
  }

  function sayResumed(name: string, event: Exclude<TtsResumeEvent, { kind: 'kept' }>): void {
    if (event.kind === 'resumed') log.info(`Analyze Trace (${name}): resuming at step ${event.kept + 1} of ${event.total} (${event.kept} kept from the cancelled run)`);
    else {
      log.info(`Analyze Trace (${name}): scoring every step again: ${event.reason}`);
      void vscode.window.showInformationMessage(`ThinkScope: scoring every step of ${name} again: ${event.reason}.`);
    }
  }

  /** Says when the scores are uninformative or the model answers otherwise, and offers to score the other answer. */
  async function warnAboutAnswer(file: TraceFile, options: AnalyzeArguments): Promise<void> {
    const check = file.answerCheck!;
    const warnings = answerWarnings(check, file.settings.answer ?? '');
    if (warnings.length === 0) return;
    const other = check.agrees ? [] : file.settings.answer === check.modelAnswer ? (check.traceAnswer ? [TRACE_ANSWER] : []) : [OWN_ANSWER];
    const answer = await vscode.window.showWarningMessage(`ThinkScope: ${warnings.join('; ')}.`, ...other);
    if (answer === OWN_ANSWER) await vscode.commands.executeCommand(Commands.analyzeTrace, { ...options, answerFrom: 'model' });
    if (answer === TRACE_ANSWER && check.traceAnswer !== null) await vscode.commands.executeCommand(Commands.analyzeTrace, { ...options, answer: check.traceAnswer });
  }

  context.subscriptions.push(vscode.commands.registerCommand(Commands.analyzeTrace, analyze));
}

/** Whether a trace holds anything the model computed (not only keyword classes). */
function hasModelScores(file: TraceFile): boolean {
  return file.turns.length > 0 || file.steps.some((s) => s.s11 !== null || s.latentScore !== null || Object.keys(s.projections).length > 0);
}

/** Why an analysis did not fit the model: the tokens it needs, the model's limit, and (when known) how many thinking tokens fit. */
export interface ContextOverflow {
  needed: number;
  limit: number;
  fits: number | null;
}

const number = (text: string) => Number(text.replace(/,/g, ''));

/** The engine's refusal of a trace longer than the model's positions, read from its message. */
export function contextOverflow(error: unknown): ContextOverflow | undefined {
  if (!(error instanceof Error)) return undefined;
  const refused = /needs ([\d,]+) positions .* holds ([\d,]+)(?:.* only its last ([\d,]+) tokens)?/.exec(error.message);
  if (refused) return { needed: number(refused[1]), limit: number(refused[2]), fits: refused[3] ? number(refused[3]) : null };
  const overflowed = /([\d,]+) tokens exceeds the model's ([\d,]+) positions/.exec(error.message);
  return overflowed ? { needed: number(overflowed[1]), limit: number(overflowed[2]), fits: null } : undefined;
}

/** Says how to analyse a trace longer than the model's context: its last N tokens of thinking, or a selection of it. */
function offerShorterTrace(document: vscode.TextDocument, overflow: ContextOverflow, rerun: AnalyzeArguments, wasSelection: boolean): void {
  const what = wasSelection ? 'The selection' : basename(document.uri.path);
  const lastTokens = overflow.fits ? `Analyze the Last ${overflow.fits.toLocaleString('en')} Tokens` : undefined;
  const select = 'Select Part of the Thinking';
  void vscode.window
    .showWarningMessage(
      `${what} needs ${overflow.needed.toLocaleString('en')} positions; the model holds ${overflow.limit.toLocaleString('en')}. Nothing was analysed. ` +
        (lastTokens ? `Analyse only the last ${overflow.fits!.toLocaleString('en')} tokens of thinking, or a selection of it.` : 'Select a part of the thinking and run Analyze Trace on the selection.'),
      ...(lastTokens ? [lastTokens] : []),
      select,
    )
    .then(async (action) => {
      if (action === lastTokens) await vscode.commands.executeCommand(Commands.analyzeTrace, { ...rerun, uri: document.uri, lastTokens: overflow.fits });
      if (action !== select) return;
      const editor = await vscode.window.showTextDocument(document);
      // A starting point the user can adjust: the end of the document, about as much as fits.
      const length = document.getText().length;
      const keep = Math.floor((0.9 * length * overflow.limit) / overflow.needed);
      editor.selection = new vscode.Selection(document.positionAt(length - keep), document.positionAt(length));
      editor.revealRange(editor.selection);
    });
}
