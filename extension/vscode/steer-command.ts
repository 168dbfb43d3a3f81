// "ThinkScope: Steer Reply…": a preset or saved direction, a strength, a prompt (or the selection);
// the baseline and the steered reply stream into two editors side by side, then both are decorated
// with their re-scored steps.

import * as vscode from 'vscode';
import { newTraceFile } from '../common/bundle/trace-write';
import type { DirectionMethod } from '../common/direction';
import type { EngineNotifications, GenerateResult, SteeringChoice, SteeringMethod } from '../common/protocol';
import type { Comparison, ReplyRecord } from '../common/bundle/trace-file';
import { PRESET_INFO, STEERING_PRESETS, type LoadedDirection } from '../common/webview-protocol';
import { Commands } from './command-ids';
import type { EngineClient, TraceResults } from './contracts';
import type { DirectionStore } from './direction-store';
import type { ModelSelection } from './model-selection';
import { presetLayers } from './panels/steering';
import { defaultMethodFor, describeRule, steeringRule } from '../common/steering-rule';
import { isCancelled, reportFailure, withEngineProgress } from './progress';
import { generationMaxTokens, segmentation } from './settings';
import type { AnalysisDirections } from './analysis-directions';
import { replyScoring, scoreReplies } from './reply-scoring';

/** Arguments a caller (a test, another command) may pass instead of asking. */
export interface SteerArguments {
  direction?: string;
  method?: SteeringMethod;
  strength?: number;
  prompt?: string;
  /** Default: the setting thinkscope.generation.maxTokens. */
  maxTokens?: number;
}

export interface SteerOutcome {
  baseline: vscode.Uri;
  steered: vscode.Uri;
  result: GenerateResult;
}

const BROWSE = '$(folder-opened) Browse for a direction folder…';

interface Steering {
  direction: LoadedDirection;
  method: SteeringMethod;
  /** Default: the direction's own layers. */
  layers?: number[];
  /** undefined when the method takes none. */
  strength: number | undefined;
}

interface SteeringPick extends vscode.QuickPickItem {
  choice?: Steering;
}

/** How a saved direction steers when no preset says otherwise: its paper's rule (steering-rule.ts), else added at every position. */
function defaultSteering(kind: DirectionMethod): { method: SteeringMethod; strength: number | undefined } {
  const method = defaultMethodFor({ method: kind });
  return { method, strength: method === 'cap' ? undefined : method === 'rotate' ? 10 : 1 };
}

/** Writes streamed snapshots into a document after its header, coalescing those that come while an edit is applied. */
class ReplyWriter {
  private latest = '';
  private written = '';
  private flushing: Promise<void> | null = null;

  constructor(
    readonly document: vscode.TextDocument,
    private readonly headerLength: number,
  ) {}

  update(text: string): Promise<void> {
    this.latest = text;
    this.flushing ??= this.flush().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  async finish(text: string): Promise<void> {
    await this.update(text);
    if (this.written !== text) await this.update(text);
  }

  private async flush(): Promise<void> {
    while (this.written !== this.latest) {
      const text = this.latest;
      const edit = new vscode.WorkspaceEdit();
      const end = this.document.positionAt(this.document.getText().length);
      edit.replace(this.document.uri, new vscode.Range(this.document.positionAt(this.headerLength), end), text);
      if (!(await vscode.workspace.applyEdit(edit))) return;
      this.written = text;
    }
  }
}

/** Numbers the baseline/steered pairs of this window, so both tabs of a pair carry the same one. */
let pairCount = 0;

async function openReplyEditor(title: string, header: string, column: vscode.ViewColumn): Promise<{ editor: vscode.TextEditor; writer: ReplyWriter }> {
  const uri = vscode.Uri.from({ scheme: 'untitled', path: `${title}.md` });
  const document = await vscode.workspace.openTextDocument(uri);
  const editor = await vscode.window.showTextDocument(document, { viewColumn: column, preview: false, preserveFocus: true });
  const edit = new vscode.WorkspaceEdit();
  edit.replace(uri, new vscode.Range(0, 0, document.lineCount, 0), header);
  await vscode.workspace.applyEdit(edit);
  return { editor, writer: new ReplyWriter(document, header.length) };
}

/** The choice as the engine applies it: direction, rule, layers, positions. */
function describeChoice(choice: SteeringChoice, direction: LoadedDirection): string {
  return `${direction.name}: ${describeRule(steeringRule(direction, choice))}`;
}

export function registerSteer(
  context: vscode.ExtensionContext,
  engine: EngineClient,
  results: TraceResults,
  models: ModelSelection,
  directions: DirectionStore,
  analysisDirections: AnalysisDirections,
  log: vscode.LogOutputChannel,
): void {
  async function pickSteering(): Promise<Steering | undefined> {
    const known = [...directions.all()].reverse(); // newest first
    const presets: SteeringPick[] = STEERING_PRESETS.flatMap((preset) => {
      const info = PRESET_INFO[preset];
      const direction = known.find((d) => d.method === info.needs);
      // A step preset steers a step of a trace (Steer this step), not a reply.
      if (!direction || info.scope !== 'reply') return [];
      const layers = presetLayers(preset, direction) ?? undefined;
      return [{ label: info.label, description: direction.name, detail: info.description, choice: { direction, method: info.method, layers, strength: info.method === 'cap' ? undefined : info.strength } }];
    });
    const saved: SteeringPick[] = known.map((direction) => {
      const steering = defaultSteering(direction.method);
      return { label: direction.name, description: direction.method, detail: describeRule(steeringRule(direction, { ...steering, strength: steering.strength ?? 0 })), choice: { direction, ...steering } };
    });
    const items: SteeringPick[] = [
      ...(presets.length ? [{ label: 'Presets', kind: vscode.QuickPickItemKind.Separator }, ...presets] : []),
      ...(saved.length ? [{ label: 'Saved directions', kind: vscode.QuickPickItemKind.Separator }, ...saved] : []),
      { label: BROWSE, detail: presets.length ? undefined : 'Build one with "ThinkScope: Build Direction…", or pick a saved direction folder' },
    ];
    const picked = await vscode.window.showQuickPick(items, { title: 'ThinkScope: Steer Reply (1/3)', placeHolder: 'How to steer' });
    if (!picked) return undefined;
    if (picked.choice) return picked.choice;
    const direction = await directions.browse('A direction folder (direction.json and direction.safetensors)');
    return direction && { direction, ...defaultSteering(direction.method) };
  }

  async function askStrength(method: SteeringMethod, initial: number): Promise<number | undefined> {
    const unit = method === 'rotate' ? 'angle in degrees' : method === 'calibrate' ? 'c of SEAL calibration (−c·v at "\\n\\n" tokens while thinking)' : 'scale of the vector added at every position (negative subtracts it)';
    const answer = await vscode.window.showInputBox({
      title: 'ThinkScope: Steer Reply (2/3)',
      prompt: `Strength: the ${unit}`,
      value: String(initial),
      validateInput: (value) => (Number.isFinite(Number(value)) && value.trim() !== '' ? undefined : 'Enter a number, e.g. -1.5'),
    });
    return answer === undefined ? undefined : Number(answer);
  }

  async function askPrompt(): Promise<string | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (editor && !editor.selection.isEmpty) return editor.document.getText(editor.selection);
    const prompt = await vscode.window.showInputBox({
      title: 'ThinkScope: Steer Reply (3/3)',
      prompt: 'The prompt to answer (or select text in an editor before running the command)',
      value: context.globalState.get<string>('thinkscope.lastPrompt', ''),
      validateInput: (value) => (value.trim() ? undefined : 'The prompt is empty'),
    });
    if (prompt) await context.globalState.update('thinkscope.lastPrompt', prompt);
    return prompt;
  }

  /** Decorates a finished reply document with its re-scored steps. */
  function annotateReply(writer: ReplyWriter, headerLength: number, reply: ReplyRecord, name: string): void {
    const text = writer.document.getText();
    if (text.slice(headerLength) !== reply.text) return; // edited meanwhile: its steps would not fit
    const steps = reply.steps.map((step) => ({ ...step, start: step.start + headerLength, end: step.end + headerLength }));
    results.set(writer.document.uri, newTraceFile({ toolVersion: context.extension.packageJSON.version, source: { name, format: 'markdown', text }, steps, segmentation: segmentation() }));
  }

  /**
   * Both replies scored as Analyze Trace scores a trace: the analyses of the trace in `from` (the editor
   * Steer Reply… ran from), else Analyze Trace's last choice. Cancel keeps the keyword classes.
   */
  async function scorePair(comparison: Comparison, from: vscode.Uri | undefined, pair: number): Promise<Comparison> {
    const trace = from && results.get(from);
    const choice = replyScoring(context.globalState, analysisDirections)(trace ? { name: trace.source.name, file: trace } : null);
    try {
      return await withEngineProgress(`ThinkScope: Scoring Pair ${pair} ${choice.source}`, (task) =>
        scoreReplies(engine, comparison, choice, { signal: task.signal, report: (which, words) => task.report(`${which} reply: ${words}`, which === 'baseline' ? 25 : 75) }),
      );
    } catch (error) {
      if (isCancelled(error)) void vscode.window.showInformationMessage(`Scoring Pair ${pair} cancelled: both replies keep their keyword classes only.`);
      else reportFailure(log, `Steer Reply: scoring Pair ${pair}`, error);
      return comparison;
    }
  }

  /** The last pair of replies, for the diff command. */
  let lastPair: { baseline: vscode.Uri; steered: vscode.Uri; title: string } | undefined;

  async function steer(argument: unknown): Promise<SteerOutcome | undefined> {
    const options = (argument ?? {}) as SteerArguments;
    let chosen: Steering;
    try {
      if (options.direction) {
        const direction = await engine.request('describeDirection', { path: options.direction });
        await directions.noteUsed(direction);
        chosen = { direction, method: options.method ?? defaultSteering(direction.method).method, strength: options.strength ?? 1 };
      } else {
        const picked = await pickSteering();
        if (!picked) return undefined;
        let strength = picked.strength;
        if (options.strength !== undefined) strength = options.strength;
        else if (strength !== undefined) strength = await askStrength(picked.method, strength);
        if (picked.strength !== undefined && strength === undefined) return undefined;
        chosen = { ...picked, strength };
      }
    } catch (error) {
      reportFailure(log, 'Steer Reply', error);
      return undefined;
    }
    const prompt = options.prompt ?? (await askPrompt());
    if (!prompt) return undefined;
    if (!(await models.ensureModel())) return undefined;

    const from = vscode.window.activeTextEditor?.document.uri;
    const choice: SteeringChoice = { direction: chosen.direction.path, method: chosen.method, strength: chosen.strength ?? 0, ...(chosen.layers ? { layers: chosen.layers } : {}) };
    const described = describeChoice(choice, chosen.direction);
    const quoted = prompt.replace(/\s+/g, ' ').trim();
    const baselineHeader = `# Baseline reply\n\n> ${quoted}\n\n`;
    const steeredHeader = `# Steered reply (${described})\n\n> ${quoted}\n\n`;
    // Both tabs say which pair they belong to: "Pair 3 · baseline", "Pair 3 · steered (seal −4)".
    const pair = ++pairCount;
    const baseline = await openReplyEditor(`Pair ${pair} · baseline`, baselineHeader, vscode.ViewColumn.Beside);
    const steered = await openReplyEditor(`Pair ${pair} · steered (${chosen.direction.name} ${chosen.method}${chosen.method === 'add' || chosen.method === 'rotate' ? ` ${choice.strength}` : ''})`, steeredHeader, (baseline.editor.viewColumn ?? vscode.ViewColumn.One) + 1);
    const writers = { baseline: baseline.writer, steered: steered.writer };
    const maxTokens = options.maxTokens ?? generationMaxTokens();
    try {
      // The engine decodes both replies as one batch of two: a snapshot per token of each.
      const tokens = { baseline: 0, steered: 0 };
      const result = await withEngineProgress(`ThinkScope: Steering (${described})`, (task) =>
        engine.request(
          'generate',
          { prompt, steering: [choice], compare: true, maxTokens, segmentation: segmentation() },
          {
            signal: task.signal,
            onNotification: task.listener((method, params) => {
              // Before the first token: the engine adding the steering blocks the reply needs (once per model).
              if (method === 'progress') task.report((params as EngineNotifications['progress']).message, 0);
              if (method !== 'replySnapshot') return;
              const snapshot = params as EngineNotifications['replySnapshot'];
              tokens[snapshot.stream]++;
              task.report(`baseline ${tokens.baseline} · steered ${tokens.steered} of at most ${maxTokens} tokens`, (100 * Math.max(tokens.baseline, tokens.steered)) / maxTokens);
              void writers[snapshot.stream].update(snapshot.text);
            }),
          },
        ),
      );
      await writers.baseline.finish(result.baseline ?? '');
      await writers.steered.finish(result.steered);
      for (const warning of result.warnings) void vscode.window.showWarningMessage(`Steer Reply: ${warning}`);
      if (result.comparison) {
        result.comparison = await scorePair(result.comparison, from, pair);
        annotateReply(writers.baseline, baselineHeader.length, result.comparison.baseline, 'baseline reply');
        annotateReply(writers.steered, steeredHeader.length, result.comparison.steered, 'steered reply');
      }
      lastPair = { baseline: baseline.writer.document.uri, steered: steered.writer.document.uri, title: `Pair ${pair}: baseline ↔ steered (${described})` };
      void vscode.window.showInformationMessage(`Pair ${pair} is done: both replies are re-scored.`, 'Compare in Diff Editor').then((action) => {
        if (action) void vscode.commands.executeCommand(Commands.diffReplies);
      });
      return { baseline: baseline.writer.document.uri, steered: steered.writer.document.uri, result };
    } catch (error) {
      if (isCancelled(error)) void vscode.window.showInformationMessage('Steering cancelled; the text generated so far is kept.');
      reportFailure(log, 'Steer Reply', error);
      return undefined;
    }
  }

  context.subscriptions.push(
    vscode.commands.registerCommand(Commands.steerReply, steer),
    vscode.commands.registerCommand(Commands.diffReplies, async () => {
      if (!lastPair) {
        void vscode.window.showInformationMessage('No steered pair yet: run "ThinkScope: Steer Reply…" first.');
        return undefined;
      }
      await vscode.commands.executeCommand('vscode.diff', lastPair.baseline, lastPair.steered, lastPair.title);
      return lastPair.title;
    }),
  );
}
