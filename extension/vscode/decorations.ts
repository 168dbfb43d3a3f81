// Steps of an analysed document, decorated in place: a tint and border per SEAL class (contributed,
// themeable colours), the TTS badges of the steps that end on a line at that line's end (a badge
// inside a wrapped line would push its text past the editor's edge), and an overview-ruler mark for each
// high-TTS step. Decoration types are made once; only the visible part of a long trace
// (plus a margin) gets ranges, recomputed when the view scrolls, at most once per frame.

import * as vscode from 'vscode';
import { TRUE_THINKING_MIN } from '../common/analysis/tts';
import type { StepAnnotation, TraceFile } from '../common/bundle/trace-file';
import { formatTts } from '../common/export/format';
import type { SealClass } from '../common/trace/types';
import type { TraceResults } from './contracts';
import { decorationStyle } from './settings';

const SEAL_CLASSES: readonly SealClass[] = ['execution', 'reflection', 'transition'];
type StepKind = SealClass | 'unclassified';
/** Lines above and below the viewport that are decorated too, so scrolling shows no bare text. */
const MARGIN_LINES = 40;
const RENDER_DELAY_MS = 16;

/** What one rendered step looks like: for tests and for the panels. */
export interface RenderedStep {
  index: number;
  kind: StepKind;
  range: vscode.Range;
  badge: string | undefined;
}

function stepKind(step: StepAnnotation): StepKind {
  return step.sealClass ?? 'unclassified';
}

/** The inline badge: the TTS when it was computed ("n/p" for a step it cannot perturb), else the class. */
function badgeText(step: StepAnnotation, ttsComputed: boolean, file: TraceFile): string | undefined {
  if (ttsComputed) return step.perturbable ? (step.tts === null ? undefined : `TTS ${formatTts(step, file)}`) : 'n/p';
  return step.sealClass ?? undefined;
}

function ttsWasComputed(file: TraceFile): boolean {
  return file.steps.some((step) => step.s11 !== null || step.tts !== null);
}

function color(kind: StepKind, part: 'background' | 'border'): vscode.ThemeColor {
  return new vscode.ThemeColor(`thinkscope.${kind}.${part}`);
}

interface DecorationTypes {
  steps: Map<StepKind, vscode.TextEditorDecorationType>;
  badges: vscode.TextEditorDecorationType;
  highTts: vscode.TextEditorDecorationType;
}

function makeTypes(): DecorationTypes {
  const steps = new Map<StepKind, vscode.TextEditorDecorationType>();
  for (const kind of [...SEAL_CLASSES, 'unclassified'] as const) {
    steps.set(
      kind,
      vscode.window.createTextEditorDecorationType({
        backgroundColor: color(kind, 'background'),
        border: '1px solid',
        borderColor: color(kind, 'border'),
        borderRadius: '3px',
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
      }),
    );
  }
  const badges = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('thinkscope.badge.foreground'), backgroundColor: new vscode.ThemeColor('thinkscope.badge.background'), margin: '0 0.4em 0 0.6em', fontStyle: 'normal', fontWeight: 'normal' },
  });
  const highTts = vscode.window.createTextEditorDecorationType({
    overviewRulerColor: new vscode.ThemeColor('thinkscope.highTts.overviewRuler'),
    overviewRulerLane: vscode.OverviewRulerLane.Right,
  });
  return { steps, badges, highTts };
}

/** First index whose step ends after `offset` (steps are sorted and do not overlap). */
function firstStepEndingAfter(steps: readonly StepAnnotation[], offset: number): number {
  let low = 0;
  let high = steps.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (steps[middle].end <= offset) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Offset windows of the visible ranges, widened by a margin and merged. */
function visibleWindows(editor: vscode.TextEditor): [number, number][] {
  const document = editor.document;
  const windows: [number, number][] = [];
  for (const range of editor.visibleRanges) {
    const from = document.offsetAt(new vscode.Position(Math.max(0, range.start.line - MARGIN_LINES), 0));
    const to = document.offsetAt(new vscode.Position(Math.min(document.lineCount - 1, range.end.line + MARGIN_LINES), Number.MAX_SAFE_INTEGER));
    const last = windows.at(-1);
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else windows.push([from, to]);
  }
  return windows;
}

export class TraceDecorations implements vscode.Disposable {
  private style = decorationStyle();
  private readonly types = makeTypes();
  private readonly pending = new Map<vscode.TextEditor, ReturnType<typeof setTimeout>>();
  private readonly rendered = new Map<string, RenderedStep[]>();
  /** Ranges of the high-TTS steps of a file, made once per file version. */
  private readonly highTtsRanges = new WeakMap<TraceFile, vscode.Range[]>();
  /** The document version a file's text was last found equal to: scrolling need not compare the text again. */
  private readonly matchedVersion = new WeakMap<TraceFile, { document: vscode.TextDocument; version: number }>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly results: TraceResults) {
    this.disposables.push(
      results.onDidChange(({ uri }) => {
        for (const editor of vscode.window.visibleTextEditors) if (editor.document.uri.toString() === uri.toString()) this.schedule(editor);
      }),
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((editor) => this.schedule(editor))),
      vscode.window.onDidChangeTextEditorVisibleRanges((event) => this.schedule(event.textEditor)),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('thinkscope.decorations.style')) this.restyle();
      }),
    );
    vscode.window.visibleTextEditors.forEach((editor) => this.schedule(editor));
  }

  /** The steps decorated in a document's editors right now (the visible part of the trace). */
  renderedSteps(uri: vscode.Uri): RenderedStep[] {
    return this.rendered.get(uri.toString()) ?? [];
  }

  /** Renders a document's visible editors now, without waiting for the next frame. */
  renderNow(uri: vscode.Uri): void {
    for (const editor of vscode.window.visibleTextEditors) if (editor.document.uri.toString() === uri.toString()) this.render(editor);
  }

  dispose(): void {
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.disposeTypes();
    this.disposables.forEach((d) => d.dispose());
  }

  private restyle(): void {
    this.style = decorationStyle();
    this.rendered.clear();
    vscode.window.visibleTextEditors.forEach((editor) => this.schedule(editor));
  }

  private disposeTypes(): void {
    for (const type of this.types.steps.values()) type.dispose();
    this.types.badges.dispose();
    this.types.highTts.dispose();
  }

  private schedule(editor: vscode.TextEditor): void {
    if (this.pending.has(editor)) return;
    this.pending.set(
      editor,
      setTimeout(() => {
        this.pending.delete(editor);
        this.render(editor);
      }, RENDER_DELAY_MS),
    );
  }

  private render(editor: vscode.TextEditor): void {
    const document = editor.document;
    if (document.isClosed) return;
    const file = this.results.get(document.uri);
    // Results whose text is not this document's (changed while closed) would sit on the wrong words.
    const usable = file && this.style !== 'off' && this.describes(file, document) ? file : undefined;
    const byKind = new Map<StepKind, vscode.DecorationOptions[]>([...this.types.steps.keys()].map((kind) => [kind, []]));
    const rendered: RenderedStep[] = [];
    /** Badges of the steps that end on a line, in step order, by line. */
    const badgesByLine = new Map<number, string[]>();
    if (usable) {
      const ttsComputed = ttsWasComputed(usable);
      for (const [from, to] of visibleWindows(editor)) {
        for (let i = firstStepEndingAfter(usable.steps, from); i < usable.steps.length && usable.steps[i].start < to; i++) {
          const step = usable.steps[i];
          const range = new vscode.Range(document.positionAt(step.start), document.positionAt(step.end));
          const badge = this.style === 'inline' ? badgeText(step, ttsComputed, usable) : undefined;
          const kind = stepKind(step);
          byKind.get(kind)!.push({ range });
          if (badge) badgesByLine.set(range.end.line, [...(badgesByLine.get(range.end.line) ?? []), badge]);
          rendered.push({ index: step.index, kind, range, badge });
        }
      }
    }
    for (const [kind, type] of this.types.steps) editor.setDecorations(type, byKind.get(kind)!);
    const badges = [...badgesByLine].map(([line, texts]) => {
      const end = document.lineAt(line).range.end;
      return { range: new vscode.Range(end, end), renderOptions: { after: { contentText: texts.join(' · ') } } };
    });
    editor.setDecorations(this.types.badges, badges);
    editor.setDecorations(this.types.highTts, usable ? this.highTts(document, usable) : []);
    this.rendered.set(document.uri.toString(), rendered);
  }

  private describes(file: TraceFile, document: vscode.TextDocument): boolean {
    const matched = this.matchedVersion.get(file);
    if (matched?.document === document && matched.version === document.version) return true;
    if (document.getText() !== file.source.text) return false;
    this.matchedVersion.set(file, { document, version: document.version });
    return true;
  }

  private highTts(document: vscode.TextDocument, file: TraceFile): vscode.Range[] {
    let ranges = this.highTtsRanges.get(file);
    if (!ranges) {
      // Uninformative scores mark no step as true thinking.
      ranges = file.steps
        .filter((step) => step.tts !== null && step.tts >= TRUE_THINKING_MIN && file.answerCheck?.tts !== 'uninformative')
        .map((step) => new vscode.Range(document.positionAt(step.start), document.positionAt(step.end)));
      this.highTtsRanges.set(file, ranges);
    }
    return ranges;
  }
}
