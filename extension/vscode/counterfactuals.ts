// Live counterfactuals: while an analysed trace is edited, the answer's readout after the edit (S before
// → after, and the model's greedy answer when it changed) as a badge on the edited step, and the same for
// "Remove this step" and "Perturb this step's numbers" (hover links), which ask without touching the text.
// Typing is debounced; a newer edit cancels the computation of an older one; the editor never waits (the
// engine works in its own process and keeps the analysed trace's run between edits).

import * as vscode from 'vscode';
import { describeCounterfactual, perturbStep, removeSteps, type Counterfactual } from '../common/analysis/counterfactual';
import { DEFAULT_PERTURBATION_SEED } from '../common/analysis/perturb';
import type { TraceFile } from '../common/bundle/trace-file';
import { Commands } from './command-ids';
import type { EngineClient, TraceResults } from './contracts';
import { isCancelled } from './progress';
import { counterfactualDelayMs } from './settings';
import type { StepReference } from './hover';

export interface Readout {
  /** What was asked: an edit typed in the document, or a step removed or perturbed (the document unchanged). */
  kind: 'edit' | 'remove' | 'perturb';
  /** The document text the badge belongs to. */
  documentText: string;
  /** Where the badge goes in `documentText`: the edited (or removed, perturbed) step. */
  anchor: { start: number; end: number } | null;
  result: Counterfactual;
  /** The line shown in the badge and the panel. */
  line: string;
}

/** The analysed text of a document: an edit is compared with it (the analysis's file, by its creation time). */
interface Baseline {
  createdAt: string;
  file: TraceFile;
}

const LABELS: Record<Readout['kind'], string> = { edit: 'edited', remove: 'without this step', perturb: 'numbers moved' };

/** "edited: S 0.912 → 0.104 · answer 8 → 6", as the badge and the panel show it. */
export function readoutText(readout: Pick<Readout, 'kind' | 'line'>): string {
  return `${LABELS[readout.kind]}: ${readout.line}`;
}

export class LiveCounterfactuals implements vscode.Disposable {
  private readonly baselines = new Map<string, Baseline>();
  private readonly readouts = new Map<string, Readout>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly running = new Map<string, AbortController>();
  private readonly changed = new vscode.EventEmitter<{ uri: vscode.Uri; readout: Readout | undefined }>();
  readonly onDidChange = this.changed.event;
  private readonly badge = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('thinkscope.badge.foreground'), backgroundColor: new vscode.ThemeColor('thinkscope.badge.background'), margin: '0 0.4em 0 0.6em', fontStyle: 'italic' },
  });
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly engine: EngineClient,
    private readonly results: TraceResults,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      results.onDidChange(({ uri, file }) => this.resultsChanged(uri, file)),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.contentChanges.length > 0 && this.baselines.has(event.document.uri.toString())) this.schedule(event.document);
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.renderAll()),
      vscode.commands.registerCommand(Commands.removeStep, (argument: StepReference) => this.askAboutStep('remove', argument)),
      vscode.commands.registerCommand(Commands.perturbStep, (argument: StepReference) => this.askAboutStep('perturb', argument)),
    );
  }

  /** The latest readout of a document (for the panel and the tests). */
  readout(uri: vscode.Uri): Readout | undefined {
    return this.readouts.get(uri.toString());
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    for (const controller of this.running.values()) controller.abort();
    this.badge.dispose();
    this.changed.dispose();
    this.disposables.forEach((d) => d.dispose());
  }

  private resultsChanged(uri: vscode.Uri, file: TraceFile | undefined): void {
    const key = uri.toString();
    if (!file || file.model === null) {
      this.baselines.delete(key);
      this.setReadout(uri, undefined);
      return;
    }
    // Edits keep the file's creation time (follow-edits); a new analysis brings a new one and a new baseline.
    if (this.baselines.get(key)?.createdAt !== file.createdAt) {
      this.baselines.set(key, { createdAt: file.createdAt, file });
      this.setReadout(uri, undefined);
    }
  }

  private schedule(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        const baseline = this.baselines.get(key);
        const text = document.getText();
        if (!baseline) return;
        if (text === baseline.file.source.text) {
          this.running.get(key)?.abort();
          this.setReadout(document.uri, undefined);
          return;
        }
        void this.ask(document.uri, 'edit', text, text, null);
      }, counterfactualDelayMs()),
    );
  }

  private async askAboutStep(kind: 'remove' | 'perturb', argument: StepReference): Promise<Readout | undefined> {
    const uri = vscode.Uri.parse(argument.uri);
    const file = this.results.get(uri);
    const step = file?.steps.find((s) => s.index === argument.step);
    if (!file || !step) {
      void vscode.window.showErrorMessage(`${kind === 'remove' ? 'Remove' : 'Perturb'} this step needs a step of an analysed trace: analyse the trace again.`);
      return undefined;
    }
    const text = file.source.text;
    const steps = file.steps.map(({ start, end }) => ({ start, end }));
    const edited = kind === 'remove' ? removeSteps(text, steps, new Set([file.steps.indexOf(step)])) : perturbStep(text, step, file.settings.seed ?? DEFAULT_PERTURBATION_SEED);
    if (edited === null) {
      void vscode.window.showInformationMessage(`Step ${step.index} has no number to perturb.`);
      return undefined;
    }
    const readout = await this.ask(uri, kind, text, edited, { start: step.start, end: step.end });
    if (readout) void vscode.window.showInformationMessage(`ThinkScope: step ${step.index} ${LABELS[kind]}: ${readout.line}`);
    return readout;
  }

  /** Asks the engine for the readout of `edited`, cancelling the document's earlier question. */
  private async ask(uri: vscode.Uri, kind: Readout['kind'], documentText: string, edited: string, anchor: Readout['anchor']): Promise<Readout | undefined> {
    const key = uri.toString();
    const baseline = this.baselines.get(key);
    if (!baseline) return undefined;
    this.running.get(key)?.abort();
    const controller = new AbortController();
    this.running.set(key, controller);
    const { file } = baseline;
    try {
      const result = await this.engine.request(
        'counterfactual',
        {
          baseline: file.source.text,
          text: edited,
          fileName: file.source.name,
          segmentation: file.segmentation,
          cue: file.settings.cue,
          answer: file.settings.answer ?? undefined,
        },
        { signal: controller.signal },
      );
      if (controller.signal.aborted) return undefined;
      const readout: Readout = { kind, documentText, anchor: anchor ?? (result.step && { start: result.step.start, end: result.step.end }), result, line: describeCounterfactual(result) };
      this.setReadout(uri, readout);
      this.log.info(`counterfactual (${kind}) on ${file.source.name}: ${readout.line}, ${result.recomputed} tokens in ${Math.round(result.seconds * 1000)} ms`);
      return readout;
    } catch (error) {
      if (!isCancelled(error) && !controller.signal.aborted) this.log.warn(`counterfactual on ${file.source.name}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    } finally {
      if (this.running.get(key) === controller) this.running.delete(key);
    }
  }

  private setReadout(uri: vscode.Uri, readout: Readout | undefined): void {
    const key = uri.toString();
    if (!readout && !this.readouts.has(key)) return;
    if (readout) this.readouts.set(key, readout);
    else this.readouts.delete(key);
    this.changed.fire({ uri, readout });
    this.renderAll();
  }

  private renderAll(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      const readout = this.readouts.get(editor.document.uri.toString());
      const shown = readout?.anchor && editor.document.getText() === readout.documentText ? readout : undefined;
      if (!shown?.anchor) {
        editor.setDecorations(this.badge, []);
        continue;
      }
      const end = editor.document.lineAt(editor.document.positionAt(shown.anchor.end).line).range.end;
      editor.setDecorations(this.badge, [{ range: new vscode.Range(end, end), renderOptions: { after: { contentText: readoutText(shown) } } }]);
    }
  }
}
