// "ThinkScope: Analyze Trace": the active document (or its selection) analysed by the engine, with
// the analyses the user picks (remembered). Snapshots decorate the document step by step while the
// engine works; Cancel stops the engine and keeps the steps scored so far.

import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { TraceFile } from '../common/bundle/trace-file';
import type { EngineNotifications } from '../common/protocol';
import { Commands } from './command-ids';
import type { EngineClient, TraceResults } from './contracts';
import type { ModelSelection } from './model-selection';
import { isCancelled, reportFailure, withEngineProgress } from './progress';
import { analyzeParams } from './settings';
import { answerWarnings } from '../common/analysis/tts';
import { boxedAnswer } from '../common/trace/query';

interface Analyses {
  tts: boolean;
  seal: boolean;
  persona: boolean;
  lens: boolean;
}

/** Arguments a caller (CodeLens, a test) may pass instead of the user's choices. */
export interface AnalyzeArguments extends Partial<Analyses> {
  uri?: string | vscode.Uri;
  /** The answer to score (default: the trace's \\boxed{} answer). */
  answer?: string;
  /** model: score the model's own answer after the whole trace. */
  answerFrom?: 'trace' | 'model';
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

async function chooseAnalyses(state: vscode.Memento): Promise<Analyses | undefined> {
  const remembered = { ...DEFAULT_ANALYSES, ...state.get<Partial<Analyses>>(ANALYSES_KEY) };
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
  log: vscode.LogOutputChannel,
): void {
  async function analyze(argument: unknown): Promise<TraceFile | undefined> {
    const options: AnalyzeArguments = argument instanceof vscode.Uri ? { uri: argument } : ((argument as AnalyzeArguments | undefined) ?? {});
    const document = await documentFor(options);
    if (!document) {
      void vscode.window.showErrorMessage('Analyze Trace: open a trace (Markdown or text with <think>, or a chat JSON/JSONL) first.');
      return undefined;
    }
    const editor = vscode.window.activeTextEditor?.document === document ? vscode.window.activeTextEditor : undefined;
    const selection = !options.uri && editor && !editor.selection.isEmpty ? editor.selection : undefined;
    const analyses: Analyses | undefined =
      options.tts !== undefined || options.seal !== undefined || options.persona !== undefined || options.lens !== undefined
        ? { tts: options.tts ?? false, seal: options.seal ?? false, persona: options.persona ?? false, lens: options.lens ?? false }
        : await chooseAnalyses(context.globalState);
    if (!analyses) return undefined;
    let answer: AnswerChoice = { answer: options.answer, answerFrom: options.answerFrom };
    const scoredText = options.uri === undefined && editor && !editor.selection.isEmpty ? document.getText(editor.selection) : document.getText();
    if (analyses.tts && answer.answer === undefined && answer.answerFrom === undefined && boxedAnswer(scoredText) === null) {
      const picked = await pickAnswer();
      if (!picked) return undefined;
      answer = picked;
    }
    if (!(await models.ensureModel())) return undefined;

    // Read once: snapshots are only placed while the document is unchanged.
    const documentText = document.getText();
    const text = selection ? document.getText(selection) : documentText;
    const offset = selection ? document.offsetAt(selection.start) : 0;
    const version = document.version;
    const name = basename(document.uri.path);
    const current = () => document.version === version;
    try {
      const params = { ...analyzeParams(text, name, analyses), ...(answer.answer !== undefined ? { answer: answer.answer } : {}), ...(answer.answerFrom ? { answerFrom: answer.answerFrom } : {}) };
      const file = await withEngineProgress(`ThinkScope: Analyzing ${name}`, (task) =>
        engine.request('analyzeTrace', params, {
          signal: task.signal,
          onNotification: task.listener((method, notification) => {
            if (method === 'analysisSnapshot' && current()) results.set(document.uri, placed((notification as EngineNotifications['analysisSnapshot']).file, documentText, offset));
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
      return result;
    } catch (error) {
      if (isCancelled(error)) void vscode.window.showInformationMessage('Analysis cancelled; the steps scored so far are kept.');
      reportFailure(log, `Analyze Trace (${name})`, error);
      return undefined;
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
