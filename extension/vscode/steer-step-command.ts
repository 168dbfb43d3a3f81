// "Steer this step" (a step's hover, or the step at the cursor): push the step's tokens along (+,
// "make the model use this step") or against (−, "make the model ignore it") a TrueThinking direction
// at one layer during the prompt pass, and score the step again. The before/after scores appear in a
// notification and in the step's hover from then on.

import * as vscode from 'vscode';
import type { StepAnnotation, TraceFile } from '../common/bundle/trace-file';
import { directionOfKind, type LoadedDirection } from '../common/webview-protocol';
import { Commands } from './command-ids';
import type { EngineClient, TraceResults } from './contracts';
import type { DirectionStore } from './direction-store';
import { describeScale, formatScore, stepAt, type StepReference } from './hover';
import type { ModelSelection } from './model-selection';
import { reportFailure, withEngineProgress } from './progress';
import type { SteeredStepResult, SteeredSteps } from './steered-steps';

/** What the hover link passes ({ uri, step }), plus what a caller may give instead of being asked. */
export interface SteerStepArguments extends Partial<StepReference> {
  /** Folder of a TrueThinking direction. */
  direction?: string;
  /** Positive: along the direction (use the step); negative: against it (ignore it). */
  scale?: number;
  /** Default: the engine's, ≈60% of the model's depth. */
  layer?: number;
}

const TITLE = 'ThinkScope: Steer this step';
const BUILD = 'Build Direction…';
const BROWSE = 'Browse for a Direction…';

interface DirectionPick extends vscode.QuickPickItem {
  direction?: LoadedDirection;
}

interface ScalePick extends vscode.QuickPickItem {
  scale?: number;
}

/** The trace and step the arguments name, or the step at the active editor's cursor. */
function targetOf(results: TraceResults, options: SteerStepArguments): { uri: vscode.Uri; file: TraceFile; step: StepAnnotation } | string {
  const editor = vscode.window.activeTextEditor;
  const uri = options.uri !== undefined ? vscode.Uri.parse(options.uri) : editor?.document.uri;
  const file = uri && results.get(uri);
  if (!uri || !file) return 'Steer this step needs an analysed trace: run "ThinkScope: Analyze Trace" with the True Thinking Score first.';
  const step = options.step !== undefined ? file.steps.find((s) => s.index === options.step) : editor && stepAt(file, editor.document.offsetAt(editor.selection.active));
  if (!step) return options.step !== undefined ? `The trace has no step ${options.step} any more (it changed since it was analysed).` : 'Put the cursor in a step of the analysed trace.';
  if (!step.perturbable) return `Step ${step.index} has no number to perturb, so it has no True Thinking Score to move.`;
  return { uri, file, step };
}

export function registerSteerStep(
  context: vscode.ExtensionContext,
  engine: EngineClient,
  results: TraceResults,
  models: ModelSelection,
  directions: DirectionStore,
  steered: SteeredSteps,
  log: vscode.LogOutputChannel,
): void {
  /** A saved TrueThinking direction, one browsed for, or none (then says how to build one). */
  async function pickDirection(): Promise<LoadedDirection | undefined> {
    const saved = directions.all().filter((d) => d.method === 'truethinking').reverse();
    if (saved.length === 0) {
      const answer = await vscode.window.showWarningMessage(
        'Steer this step needs a TrueThinking direction, and none is saved yet. Build one with "ThinkScope: Build Direction…" → TrueThinking, from traces analysed with the True Thinking Score and exported as .thinktrace.json (or browse for a direction folder).',
        BUILD,
        BROWSE,
      );
      if (answer === BUILD) void vscode.commands.executeCommand(Commands.buildDirection);
      if (answer !== BROWSE) return undefined;
    } else {
      const items: DirectionPick[] = [
        ...saved.map((direction) => ({ label: direction.name, description: `layers ${direction.layers.join(', ')}`, detail: direction.path, direction })),
        { label: `$(folder-opened) ${BROWSE}` },
      ];
      const picked = await vscode.window.showQuickPick(items, { title: `${TITLE} (1/2)`, placeHolder: 'The TrueThinking direction to steer with' });
      if (!picked) return undefined;
      if (picked.direction) return picked.direction;
    }
    const direction = await directions.browse('A TrueThinking direction folder (direction.json and direction.safetensors)');
    if (direction && direction.method !== 'truethinking') throw new Error(`${direction.path} holds ${directionOfKind(direction.method)}; steering a step needs ${directionOfKind('truethinking')}`);
    return direction;
  }

  async function pickScale(step: StepAnnotation): Promise<number | undefined> {
    const items: ScalePick[] = [
      { label: 'Use this step (+1)', detail: 'Steer along the TrueThinking direction on its tokens: the model should rely on it more', scale: 1 },
      { label: 'Ignore this step (−1)', detail: 'Steer against the direction: the model should pass over it', scale: -1 },
      { label: 'Another strength…', detail: 'A scale of your own: positive uses the step, negative ignores it' },
    ];
    const picked = await vscode.window.showQuickPick(items, { title: `${TITLE} ${step.index} (2/2)`, placeHolder: 'Make the model use the step, or ignore it' });
    if (!picked) return undefined;
    if (picked.scale !== undefined) return picked.scale;
    const typed = await vscode.window.showInputBox({
      title: `${TITLE} ${step.index} (2/2)`,
      prompt: 'Scale of the TrueThinking vector added on the step (negative subtracts it)',
      value: '2',
      validateInput: (value) => (value.trim() !== '' && Number.isFinite(Number(value)) && Number(value) !== 0 ? undefined : 'Enter a non-zero number, e.g. -2'),
    });
    return typed === undefined ? undefined : Number(typed);
  }

  /** Puts the cursor in the step and opens its hover. */
  async function showInHover(uri: vscode.Uri, step: StepAnnotation): Promise<void> {
    const document = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(document, { preserveFocus: false });
    const position = document.positionAt(step.start);
    editor.selection = new vscode.Selection(position, position);
    editor.revealRange(new vscode.Range(position, document.positionAt(step.end)), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    await vscode.commands.executeCommand('editor.action.showHover');
  }

  async function steerStep(argument: unknown): Promise<SteeredStepResult | undefined> {
    const options = (argument ?? {}) as SteerStepArguments;
    const target = targetOf(results, options);
    if (typeof target === 'string') {
      void vscode.window.showErrorMessage(target);
      return undefined;
    }
    const { uri, file, step } = target;
    const what = `${TITLE} ${step.index}`;
    try {
      let direction: LoadedDirection | undefined;
      if (options.direction !== undefined) {
        direction = await engine.request('describeDirection', { path: options.direction });
        await directions.noteUsed(direction);
      } else {
        direction = await pickDirection();
      }
      if (!direction) return undefined;
      const scale = options.scale ?? (await pickScale(step));
      if (scale === undefined) return undefined;
      if (!(await models.ensureModel())) return undefined;
      const chosen = direction;
      const steering = await withEngineProgress(`ThinkScope: Steering step ${step.index} ${describeScale(scale)}`, (task) =>
        engine.request(
          'steerStep',
          {
            text: file.source.text,
            fileName: file.source.name,
            segmentation: file.segmentation,
            step: step.index,
            direction: chosen.path,
            layer: options.layer,
            scale,
            cue: file.settings.cue,
            answer: file.settings.answer ?? undefined,
          },
          { signal: task.signal, onNotification: task.listener() },
        ),
      );
      const result: SteeredStepResult = { ...steering, directionName: chosen.name, text: step.text };
      // The step may have been edited while the engine worked: then the result no longer describes it.
      const current = results.get(uri)?.steps.find((s) => s.index === step.index);
      if (current?.text === step.text) steered.add(uri, result);
      log.info(`steered step ${step.index} of ${file.source.name} ${describeScale(scale)} at layer ${result.layer}: TTS ${result.before.tts} → ${result.after.tts}, random control → ${result.control.tts}`);
      void vscode.window
        .showInformationMessage(
          `Step ${step.index} steered ${describeScale(scale)} along “${chosen.name}” at layer ${result.layer}: TTS ${formatScore(result.before.tts)} → ${formatScore(result.after.tts)} (random direction of the same norm: → ${formatScore(result.control.tts)}), S₁₁ ${formatScore(result.before.s11)} → ${formatScore(result.after.s11)} (random: → ${formatScore(result.control.s11)}).`,
          'Show in Hover',
        )
        .then((answer) => answer && showInHover(uri, step));
      return result;
    } catch (error) {
      reportFailure(log, what, error);
      return undefined;
    }
  }

  context.subscriptions.push(vscode.commands.registerCommand(Commands.steerStep, steerStep));
}
