// The results of "Steer this step", kept beside a document's analysed trace (the trace file's schema
// has no place for them) so the step's hover shows them from then on. A result stays only while its
// step's text is unchanged, and goes when the document's annotations are cleared.

import type * as vscode from 'vscode';
import type { StepAnnotation } from '../common/bundle/trace-file';
import type { SteeredStep } from '../common/protocol';
import type { TraceResults } from './contracts';

export interface SteeredStepResult extends SteeredStep {
  /** The TrueThinking direction's name. */
  directionName: string;
  /** The step's text when it was steered. */
  text: string;
}

/** Results kept per step: the latest for each scale and layer. */
const MAX_PER_STEP = 4;

export class SteeredSteps implements vscode.Disposable {
  private readonly byDocument = new Map<string, Map<number, SteeredStepResult[]>>();
  private readonly subscription: vscode.Disposable;

  constructor(results: TraceResults) {
    this.subscription = results.onDidChange(({ uri, file }) => {
      if (!file) this.byDocument.delete(uri.toString());
    });
  }

  add(uri: vscode.Uri, result: SteeredStepResult): void {
    const steps = this.byDocument.get(uri.toString()) ?? new Map<number, SteeredStepResult[]>();
    const same = (r: SteeredStepResult) => r.scale === result.scale && r.layer === result.layer && r.text === result.text;
    steps.set(result.step, [result, ...(steps.get(result.step) ?? []).filter((r) => !same(r))].slice(0, MAX_PER_STEP));
    this.byDocument.set(uri.toString(), steps);
  }

  /** The step's results, newest first, that were made on its current text. */
  of(uri: vscode.Uri, step: StepAnnotation): SteeredStepResult[] {
    return (this.byDocument.get(uri.toString())?.get(step.index) ?? []).filter((r) => r.text === step.text);
  }

  dispose(): void {
    this.subscription.dispose();
    this.byDocument.clear();
  }
}
