// "ThinkScope: Prune Decorative Thinking": the analysed trace without its lowest-TTS steps (a threshold or
// the lowest share, picked by the user), the answer's readout on it (confidence kept, the model's greedy
// answer, tokens saved), the pruned trace written beside the original with a trace file that records what
// was removed, and a diff of the two opened.

import * as vscode from 'vscode';
import { describePruning } from '../common/analysis/prune';
import type { PruneRule, TraceFile } from '../common/bundle/trace-file';
import { serializeTraceFile } from '../common/bundle/trace-write';
import type { PruneResultMessage } from '../common/protocol';
import { Commands } from './command-ids';
import type { EngineClient, TraceResults } from './contracts';
import type { ModelSelection } from './model-selection';
import { reportFailure, withEngineProgress } from './progress';

/** What a caller (the panel, a test) may pass instead of being asked. */
export interface PruneArguments {
  uri?: string;
  rule?: PruneRule;
}

export interface PruneOutcome extends PruneResultMessage {
  /** The pruned trace and its trace file, written beside the original. */
  prunedUri: vscode.Uri;
  traceFileUri: vscode.Uri;
}

interface RulePick extends vscode.QuickPickItem {
  rule?: PruneRule;
}

const RULES: RulePick[] = [
  { label: 'Lowest 50% by TTS', detail: 'The paper’s pruning experiment: half the scored steps, the least used first', rule: { kind: 'fraction', value: 0.5 } },
  { label: 'Decorative steps (TTS < 0.005)', detail: 'The TTS paper’s threshold for decorative thinking', rule: { kind: 'threshold', value: 0.005 } },
  { label: 'Lowest 25% by TTS', rule: { kind: 'fraction', value: 0.25 } },
  { label: 'Another threshold…', detail: 'Steps whose TTS is below a value you give' },
];

async function pickRule(): Promise<PruneRule | undefined> {
  const picked = await vscode.window.showQuickPick(RULES, { title: 'ThinkScope: Prune Decorative Thinking', placeHolder: 'Which steps to remove' });
  if (!picked) return undefined;
  if (picked.rule) return picked.rule;
  const typed = await vscode.window.showInputBox({
    title: 'ThinkScope: Prune Decorative Thinking',
    prompt: 'Remove the steps whose True Thinking Score is below',
    value: '0.01',
    validateInput: (value) => (Number.isFinite(Number(value)) && Number(value) >= 0 && value.trim() !== '' ? undefined : 'Enter a number of 0 or more, e.g. 0.01'),
  });
  return typed === undefined ? undefined : { kind: 'threshold', value: Number(typed) };
}

/** PATH/name.md → PATH/name.pruned.md, and its trace file PATH/name.pruned.thinktrace.json. */
function prunedUris(original: vscode.Uri): { pruned: vscode.Uri; traceFile: vscode.Uri } {
  const name = original.path.split('/').pop() ?? 'trace';
  const dot = name.lastIndexOf('.');
  const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, '.md'];
  const folder = vscode.Uri.joinPath(original, '..');
  return { pruned: vscode.Uri.joinPath(folder, `${stem}.pruned${extension}`), traceFile: vscode.Uri.joinPath(folder, `${stem}.pruned.thinktrace.json`) };
}

/** Writes under a temporary name, then renames: the file is complete or absent. */
async function writeAtomically(target: vscode.Uri, text: string): Promise<void> {
  const temporary = target.with({ path: `${target.path}.partial-${Date.now()}` });
  await vscode.workspace.fs.writeFile(temporary, new TextEncoder().encode(text));
  try {
    await vscode.workspace.fs.rename(temporary, target, { overwrite: true });
  } catch (error) {
    await vscode.workspace.fs.delete(temporary).then(undefined, () => undefined);
    throw error;
  }
}

export function registerPrune(context: vscode.ExtensionContext, engine: EngineClient, results: TraceResults, models: ModelSelection, log: vscode.LogOutputChannel): void {
  async function prune(argument: unknown): Promise<PruneOutcome | undefined> {
    const options = (argument ?? {}) as PruneArguments;
    const uri = options.uri !== undefined ? vscode.Uri.parse(options.uri) : vscode.window.activeTextEditor?.document.uri;
    const file: TraceFile | undefined = uri && results.get(uri);
    if (!uri || !file) {
      void vscode.window.showErrorMessage('Prune Decorative Thinking needs an analysed trace: run "ThinkScope: Analyze Trace" with the True Thinking Score first.');
      return undefined;
    }
    if (uri.scheme !== 'file') {
      void vscode.window.showErrorMessage('Prune Decorative Thinking writes the pruned trace beside the original: save the trace to a file first.');
      return undefined;
    }
    const rule = options.rule ?? (await pickRule());
    if (!rule) return undefined;
    if (!(await models.ensureModel())) return undefined;
    const name = file.source.name;
    // The analysis's scores are reused when every step still has its own (an edited step loses them); else the engine scores again.
    const scored = file.steps.some((step) => step.tts !== null) && file.steps.every((step, i) => step.index === i);
    try {
      const outcome = await withEngineProgress(`ThinkScope: Pruning ${name}`, (task) =>
        engine.request(
          'prune',
          {
            text: file.source.text,
            fileName: name,
            segmentation: file.segmentation,
            rule,
            scores: scored ? file.steps.map((step) => step.tts) : undefined,
            cue: file.settings.cue,
            answer: file.settings.answer ?? undefined,
            seed: file.settings.seed,
          },
          { signal: task.signal, onNotification: task.listener() },
        ),
      );
      const { pruned, traceFile } = prunedUris(uri);
      await writeAtomically(pruned, outcome.text);
      await writeAtomically(traceFile, serializeTraceFile({ ...outcome.file, source: { ...outcome.file.source, name: pruned.path.split('/').pop() ?? name } }));
      const summary = describePruning(outcome.record, outcome.stepCount);
      log.info(`pruned ${name}: ${summary}`);
      await vscode.commands.executeCommand('vscode.diff', uri, pruned, `${name} ↔ pruned (${summary.split(':')[0]})`);
      void vscode.window.showInformationMessage(`ThinkScope: ${summary}`, 'Open Trace File').then((answer) => answer && vscode.commands.executeCommand('vscode.open', traceFile));
      return { ...outcome, prunedUri: pruned, traceFileUri: traceFile };
    } catch (error) {
      reportFailure(log, `Prune Decorative Thinking (${name})`, error);
      return undefined;
    }
  }

  context.subscriptions.push(vscode.commands.registerCommand(Commands.pruneTrace, prune));
}
