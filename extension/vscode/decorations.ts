// Steps of an analysed document, decorated in place: a tint per SEAL class (contributed, themeable
// colours; a border only when asked for), a line under each step coloured by its TTS bucket as Error
// Lens colours severities (high and medium; low steps stay plain), a badge right after each step's
// own text with its step number and TTS, and an overview-ruler mark for each high-TTS step. The badge
// is an inlay hint: the editor lays it out with the text, so a wrapped line wraps with its badges and
// never runs past the right edge, and a badge never piles up at the end of a line. The "notable steps
// only" threshold leaves the other steps bare. Decoration types are made once per style; only the
// visible part of a long trace (plus a margin) gets ranges, recomputed when the view scrolls, at most
// once per frame.

import * as vscode from 'vscode';
import { TRUE_THINKING_MIN } from '../common/analysis/tts';
import { legendLine, TTS_BUCKET_MEANING, TTS_BUCKETS, ttsBucket, type TtsBucket } from '../common/annotation-legend';
import type { StepAnnotation, TraceFile } from '../common/bundle/trace-file';
import { formatTts } from '../common/export/format';
import type { SealClass } from '../common/trace/types';
import type { TraceResults } from './contracts';
import { decorationSettings, type DecorationSettings } from './settings';

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
  /** Where the badge (an inlay hint) is: right after the step's last character. */
  badgeAt: vscode.Position | undefined;
  bucket: TtsBucket;
}

function stepKind(step: StepAnnotation): StepKind {
  return step.sealClass ?? 'unclassified';
}

/** The badge: "#12 TTS 0.42" when TTS was computed ("#12 n/p" for a step it cannot perturb), else "#12 reflection". */
export function badgeText(step: StepAnnotation, ttsComputed: boolean, file: TraceFile): string | undefined {
  if (ttsComputed) return step.perturbable ? (step.tts === null ? undefined : `#${step.index} TTS ${formatTts(step, file)}`) : `#${step.index} n/p`;
  return step.sealClass ? `#${step.index} ${step.sealClass}` : undefined;
}

function ttsWasComputed(file: TraceFile): boolean {
  return file.steps.some((step) => step.s11 !== null || step.tts !== null);
}

/** With a "notable steps only" threshold, only steps scoring at least that are decorated. */
function isNotable(step: StepAnnotation, settings: DecorationSettings, ttsComputed: boolean): boolean {
  return settings.notableTts === null || !ttsComputed || (step.tts !== null && step.tts >= settings.notableTts);
}

function color(id: string): vscode.ThemeColor {
  return new vscode.ThemeColor(`thinkscope.${id}`);
}

interface DecorationTypes {
  steps: Map<StepKind, vscode.TextEditorDecorationType>;
  badges: Map<TtsBucket, vscode.TextEditorDecorationType>;
  highTts: vscode.TextEditorDecorationType;
}

function makeTypes(settings: DecorationSettings): DecorationTypes {
  const steps = new Map<StepKind, vscode.TextEditorDecorationType>();
  for (const kind of [...SEAL_CLASSES, 'unclassified'] as const) {
    const border = settings.stepBorders ? { border: '1px solid', borderColor: color(`${kind}.border`), borderRadius: '3px' } : {};
    steps.set(kind, vscode.window.createTextEditorDecorationType({ backgroundColor: color(`${kind}.background`), ...border, rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed }));
  }
  // An underline by TTS bucket: drawn under the text, so it takes no room in the line.
  const badges = new Map<TtsBucket, vscode.TextEditorDecorationType>();
  for (const bucket of ['high', 'medium'] as const) {
    badges.set(
      bucket,
      vscode.window.createTextEditorDecorationType({ borderStyle: 'none none solid none', borderWidth: bucket === 'high' ? '0 0 2px 0' : '0 0 1px 0', borderColor: color(`tts.${bucket}.foreground`) }),
    );
  }
  const highTts = vscode.window.createTextEditorDecorationType({
    overviewRulerColor: color('highTts.overviewRuler'),
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
  private settings = decorationSettings();
  private types = makeTypes(this.settings);
  private readonly pending = new Map<vscode.TextEditor, ReturnType<typeof setTimeout>>();
  private readonly rendered = new Map<string, RenderedStep[]>();
  /** Ranges of the high-TTS steps of a file, made once per file version. */
  private readonly highTtsRanges = new WeakMap<TraceFile, vscode.Range[]>();
  /** The document version a file's text was last found equal to: scrolling need not compare the text again. */
  private readonly matchedVersion = new WeakMap<TraceFile, { document: vscode.TextDocument; version: number }>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly hintsChanged = new vscode.EventEmitter<void>();

  constructor(private readonly results: TraceResults) {
    this.disposables.push(
      this.hintsChanged,
      vscode.languages.registerInlayHintsProvider(
        [{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'thinkscope-trace' }, { scheme: 'thinkscope-readable' }],
        { onDidChangeInlayHints: this.hintsChanged.event, provideInlayHints: (document, range) => this.badgeHints(document, range) },
      ),
      results.onDidChange(({ uri }) => {
        for (const editor of vscode.window.visibleTextEditors) if (editor.document.uri.toString() === uri.toString()) this.schedule(editor);
        this.hintsChanged.fire();
      }),
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((editor) => this.schedule(editor))),
      vscode.window.onDidChangeTextEditorVisibleRanges((event) => this.schedule(event.textEditor)),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('thinkscope.decorations')) this.restyle();
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
    this.disposeTypes();
    this.settings = decorationSettings();
    this.types = makeTypes(this.settings);
    this.rendered.clear();
    this.hintsChanged.fire();
    vscode.window.visibleTextEditors.forEach((editor) => this.schedule(editor));
  }

  private disposeTypes(): void {
    for (const type of this.types.steps.values()) type.dispose();
    for (const type of this.types.badges.values()) type.dispose();
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
    const { style } = this.settings;
    // Results whose text is not this document's (changed while closed) would sit on the wrong words.
    const usable = file && style !== 'off' && this.describes(file, document) ? file : undefined;
    const byKind = new Map<StepKind, vscode.DecorationOptions[]>([...this.types.steps.keys()].map((kind) => [kind, []]));
    const byBucket = new Map<TtsBucket, vscode.DecorationOptions[]>(TTS_BUCKETS.map((bucket) => [bucket, []]));
    const rendered: RenderedStep[] = [];
    if (usable) {
      const ttsComputed = ttsWasComputed(usable);
      for (const [from, to] of visibleWindows(editor)) {
        for (let i = firstStepEndingAfter(usable.steps, from); i < usable.steps.length && usable.steps[i].start < to; i++) {
          const step = usable.steps[i];
          if (!isNotable(step, this.settings, ttsComputed)) continue;
          const range = new vscode.Range(document.positionAt(step.start), document.positionAt(step.end));
          const badge = style === 'inline' ? badgeText(step, ttsComputed, usable) : undefined;
          const kind = stepKind(step);
          const bucket = ttsBucket(step);
          byKind.get(kind)!.push({ range });
          byBucket.get(bucket)!.push({ range });
          rendered.push({ index: step.index, kind, range, badge, badgeAt: badge ? range.end : undefined, bucket });
        }
      }
    }
    for (const [kind, type] of this.types.steps) editor.setDecorations(type, byKind.get(kind)!);
    for (const [bucket, type] of this.types.badges) editor.setDecorations(type, byBucket.get(bucket)!);

    editor.setDecorations(this.types.highTts, usable ? this.highTts(document, usable) : []);
    this.rendered.set(document.uri.toString(), rendered);
  }

  /** The badges of the steps in `range`, each right after its step's text. */
  private badgeHints(document: vscode.TextDocument, range: vscode.Range): vscode.InlayHint[] {
    const file = this.results.get(document.uri);
    if (!file || this.settings.style !== 'inline' || !this.describes(file, document)) return [];
    const ttsComputed = ttsWasComputed(file);
    const from = document.offsetAt(range.start);
    const to = document.offsetAt(range.end);
    const hints: vscode.InlayHint[] = [];
    for (let i = firstStepEndingAfter(file.steps, from); i < file.steps.length && file.steps[i].start <= to; i++) {
      const step = file.steps[i];
      const badge = isNotable(step, this.settings, ttsComputed) ? badgeText(step, ttsComputed, file) : undefined;
      if (!badge) continue;
      const hint = new vscode.InlayHint(document.positionAt(step.end), badge);
      hint.paddingLeft = true;
      hint.paddingRight = true;
      hint.tooltip = `${TTS_BUCKET_MEANING[ttsBucket(step)]}\n\n${legendLine()}`;
      hints.push(hint);
    }
    return hints;
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
