// One ThinkScope panel: the webview, the state it shows, and the host's side of the webview
// protocol. The panel shows the analysed trace of the active editor (and keeps showing the last one
// while another editor or the panel itself has focus), follows the editor selection, reveals steps,
// and runs steered generations.
import * as vscode from 'vscode';
import type { EngineNotifications, GenerateResult, NotificationMethod } from '../../common/protocol';
import type { Comparison, TraceFile } from '../../common/bundle/trace-file';
import {
  HostMessageType,
  PANEL_VIEW_TYPE,
  PRESET_INFO,
  WebviewMessageType,
  dispatchMessage,
  message,
  type HostMessages,
  type LoadedDirection,
  type MessageHandlers,
  type PanelState,
  type PanelView,
  type RenderReport,
  type ReplyState,
  type WebviewMessages,
} from '../../common/webview-protocol';
import type { EngineClient, TraceResults } from '../contracts';
import type { DirectionStore } from '../direction-store';
import { configuredModelPath, generationMaxTokens, loadModelParams, segmentation } from '../settings';
import { stepsInRanges } from './editor-link';
import { panelHtml, panelOptions } from './html';
import { applyPreset, checkSteering, emptySteering, presetDirection, syncSliders, type RestoredPanel } from './steering';
import { Commands } from '../command-ids';
import { readoutText, type LiveCounterfactuals } from '../counterfactuals';
import { scoreLoneReply, scoreReplies } from '../reply-scoring';
import type { ReplyScoringChoice } from '../../common/analysis/reply-scores';
import { isCancelled } from '../progress';
import { whenDrawn } from './when-drawn';

export interface PanelDependencies {
  extensionUri: vscode.Uri;
  engine: EngineClient;
  results: TraceResults;
  /** The saved directions, shared with Build Direction…, Steer Reply… and Steer this step. */
  directions: DirectionStore;
  /** The what-if readouts of edited traces, shown with their trace. */
  counterfactuals: LiveCounterfactuals;
  /** What scores generated replies: the analyses of the shown trace (null: none shown), with the workspace's directions. */
  scoringChoice(trace: { name: string; file: TraceFile } | null): ReplyScoringChoice;
}

/** Streamed reply text is forwarded at most this often: a token per message would flood the webview. */
const REPLY_FLUSH_MS = 50;

export class ThinkScopePanel {
  private state: PanelState;
  private selection: number[] = [];
  private reply: ReplyState | null;
  private generation: AbortController | null = null;
  private replyFlush: ReturnType<typeof setTimeout> | undefined;
  private lastReport: RenderReport | null = null;
  private readonly reports = new vscode.EventEmitter<RenderReport>();
  private readonly disposed = new vscode.EventEmitter<void>();
  private readonly replyChanges = new vscode.EventEmitter<ReplyState>();
  /** Fires with the reply's state each time it is sent to the webview (generating, scoring, done). */
  readonly onDidChangeReply = this.replyChanges.event;
  private readonly disposables: vscode.Disposable[] = [];
  /** Fires when the user closes the panel. */
  readonly onDidDispose = this.disposed.event;

  static create(deps: PanelDependencies, view: PanelView = 'steps'): ThinkScopePanel {
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'ThinkScope', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, panelOptions(deps.extensionUri));
    return new ThinkScopePanel(panel, deps, { view, trace: null, heatmapDirection: null, steering: null, reply: null });
  }

  static restore(panel: vscode.WebviewPanel, deps: PanelDependencies, restored: RestoredPanel): ThinkScopePanel {
    panel.webview.options = panelOptions(deps.extensionUri);
    return new ThinkScopePanel(panel, deps, restored);
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly deps: PanelDependencies,
    restored: RestoredPanel,
  ) {
    const directions = deps.directions.all();
    this.state = {
      view: restored.view,
      trace: restored.trace,
      model: deps.engine.state.model,
      engine: deps.engine.state.status,
      directions,
      heatmapDirection: restored.heatmapDirection,
      steering: syncSliders(restored.steering ?? emptySteering(generationMaxTokens()), directions),
    };
    this.reply = restored.reply;
    this.followEditor(vscode.window.activeTextEditor);
    this.disposables.push(
      this.reports,
      this.disposed,
      this.replyChanges,
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((data) => this.receive(data)),
      vscode.window.onDidChangeActiveTextEditor((editor) => this.followEditor(editor)),
      vscode.window.onDidChangeTextEditorSelection((event) => this.followSelection(event.textEditor)),
      deps.results.onDidChange(({ uri, file }) => this.resultsChanged(uri, file)),
      deps.counterfactuals.onDidChange(({ uri }) => {
        if (this.state.trace?.uri === uri.toString()) this.update({ trace: this.state.trace });
      }),
      deps.engine.onDidChangeState(({ status, model }) => this.update({ engine: status, model })),
      deps.directions.onDidChange((all) => this.update({ directions: all, steering: syncSliders(this.state.steering, all) })),
    );
    panel.webview.html = panelHtml(panel.webview, deps.extensionUri);
  }

  /**
   * Resolves with the first report of the webview (from now, or the latest one) that satisfies
   * `predicate`; rejects after `timeoutMs`. What tests and diagnostics use to know what is on screen.
   */
  whenRendered(predicate: (report: RenderReport) => boolean, timeoutMs = 10_000): Promise<RenderReport> {
    return whenDrawn(this.reports.event, this.lastReport, predicate, timeoutMs, 'the panel did not render the expected state');
  }

  reveal(view?: PanelView): void {
    if (view && view !== this.state.view) this.update({ view });
    this.panel.reveal(undefined, true);
  }

  /** Shows the analysed trace of a document (when it has one) regardless of the active editor. */
  showTraceOf(uri: vscode.Uri): boolean {
    const file = this.deps.results.get(uri);
    if (!file) return false;
    this.update({ trace: { uri: uri.toString(), file } });
    return true;
  }

  dispose(): void {
    this.generation?.abort();
    clearTimeout(this.replyFlush);
    this.disposed.fire();
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
    this.panel.dispose();
  }

  // ---- host → webview ----

  private post<K extends keyof HostMessages>(type: K, body: HostMessages[K]): void {
    void this.panel.webview.postMessage(message(HostMessageType, type, body));
  }

  private update(change: Partial<PanelState>): void {
    if (change.trace) change = { ...change, trace: { ...change.trace, whatIf: this.whatIf(change.trace.uri) } };
    const traceChanged = 'trace' in change && change.trace?.file !== this.state.trace?.file;
    this.state = { ...this.state, ...change };
    this.post('state', { state: this.state });
    if (traceChanged) this.followSelection(vscode.window.activeTextEditor);
  }

  private whatIf(uri: string): string | null {
    const readout = this.deps.counterfactuals.readout(vscode.Uri.parse(uri));
    return readout ? readoutText(readout) : null;
  }

  private postReply(): void {
    clearTimeout(this.replyFlush);
    this.replyFlush = undefined;
    this.post('reply', { reply: this.reply });
    if (this.reply) this.replyChanges.fire(this.reply);
  }

  private postReplySoon(): void {
    this.replyFlush ??= setTimeout(() => this.postReply(), REPLY_FLUSH_MS);
  }

  // ---- following the editor ----

  private followEditor(editor: vscode.TextEditor | undefined): void {
    if (!editor) return;
    const file = this.deps.results.get(editor.document.uri);
    const uri = editor.document.uri.toString();
    if (file && (this.state.trace?.uri !== uri || this.state.trace.file !== file)) this.update({ trace: { uri, file } });
    else if (this.state.trace?.uri === uri) this.followSelection(editor);
  }

  private followSelection(editor: vscode.TextEditor | undefined): void {
    const trace = this.state.trace;
    if (!editor || !trace || editor.document.uri.toString() !== trace.uri) return;
    const { document } = editor;
    const ranges = editor.selections.map((s) => ({ start: document.offsetAt(s.start), end: document.offsetAt(s.end) }));
    const steps = stepsInRanges(trace.file.steps, ranges);
    if (steps.join() === this.selection.join()) return;
    this.selection = steps;
    this.post('selection', { steps });
  }

  private resultsChanged(uri: vscode.Uri, file: ReturnType<TraceResults['get']>): void {
    const key = uri.toString();
    if (this.state.trace?.uri === key) {
      this.update({ trace: file ? { uri: key, file } : null });
    } else if (file && vscode.window.activeTextEditor?.document.uri.toString() === key) {
      this.update({ trace: { uri: key, file } });
    }
  }

  // ---- webview → host ----

  private readonly handlers: MessageHandlers<WebviewMessages> = {
    ready: () => {
      this.post('state', { state: this.state });
      this.post('selection', { steps: this.selection });
      this.post('reply', { reply: this.reply });
    },
    selectView: ({ view }) => {
      this.state = { ...this.state, view };
    },
    revealStep: ({ index }) => this.reportFailure(this.revealStep(index)),
    selectDirection: ({ name }) => {
      this.state = { ...this.state, heatmapDirection: name };
    },
    steeringChanged: ({ steering }) => {
      this.state = { ...this.state, steering: checkSteering(steering, this.state.directions) };
    },
    generate: (request) => this.reportFailure(this.generate(request).then(() => undefined)),
    cancel: () => this.cancelGeneration(),
    loadDirection: () => this.reportFailure(this.loadDirection()),
    removeDirection: ({ path }) => this.reportFailure(this.deps.directions.remove(path)),
    applyPreset: ({ preset }) => {
      if (PRESET_INFO[preset].scope === 'step') this.steerSelectedStep(presetDirection(preset, this.state.directions), PRESET_INFO[preset].strength);
      else this.update({ steering: applyPreset(preset, this.state.steering, this.state.directions) });
    },
    prune: () => {
      if (this.state.trace) void vscode.commands.executeCommand(Commands.pruneTrace, { uri: this.state.trace.uri });
    },
    rendered: ({ report }) => {
      this.lastReport = report;
      this.reports.fire(report);
    },
  };

  private receive(data: unknown): void {
    try {
      dispatchMessage(WebviewMessageType, this.handlers, data);
    } catch (error) {
      showFailure(error);
    }
  }

  private reportFailure(work: Promise<void>): void {
    work.catch(showFailure);
  }

  /** TrueThinking's rule: push the selected step of the shown trace on its tokens and score it again (Steer this step). */
  private steerSelectedStep(direction: LoadedDirection, scale: number): void {
    const trace = this.state.trace;
    if (!trace) throw new Error('"Use this step" steers a step of an analysed trace: open one and analyse it with the True Thinking Score');
    const step = this.selection[0];
    if (step === undefined) throw new Error('"Use this step" steers the selected step: put the cursor in a step of the analysed trace');
    void vscode.commands.executeCommand(Commands.steerStep, { uri: trace.uri, step, direction: direction.path, scale });
  }

  /** Selects a step's text in its document and scrolls it into view. */
  async revealStep(index: number): Promise<void> {
    const trace = this.state.trace;
    const step = trace?.file.steps.find((s) => s.index === index);
    if (!trace || !step) throw new Error(`the shown trace has no step ${index}`);
    const uri = vscode.Uri.parse(trace.uri);
    const visible = vscode.window.visibleTextEditors.find((editor) => editor.document.uri.toString() === trace.uri);
    const document = visible?.document ?? (await vscode.workspace.openTextDocument(uri));
    const column = visible?.viewColumn ?? (this.panel.viewColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Two : vscode.ViewColumn.One);
    const editor = await vscode.window.showTextDocument(document, { viewColumn: column, preserveFocus: false });
    const range = new vscode.Range(document.positionAt(step.start), document.positionAt(step.end));
    editor.selection = new vscode.Selection(range.start, range.end);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    if (document.getText(range) !== step.text) {
      void vscode.window.showWarningMessage(`${document.fileName.split(/[\\/]/).pop()} changed since it was analysed: step ${index} may no longer be at this place. Run "ThinkScope: Analyze Trace" again.`);
    }
  }

  private async loadDirection(): Promise<void> {
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: true,
      openLabel: 'Load Direction',
      title: 'Load saved directions (folders made by ThinkScope: Build Direction… or `thinkscope direction`)',
    });
    for (const folder of picked ?? []) {
      try {
        await this.deps.directions.addFolder(folder.fsPath);
      } catch (error) {
        void vscode.window.showErrorMessage(`ThinkScope: ${folder.fsPath} is not a direction ThinkScope can load: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  /** Loads the configured model when the engine has none yet. */
  private async ensureModel(signal: AbortSignal): Promise<void> {
    if (this.deps.engine.state.model) return;
    const path = configuredModelPath();
    if (!path) throw new Error('no model is selected: run "ThinkScope: Select Model…" and choose a Hugging Face checkpoint folder');
    await this.deps.engine.request('loadModel', loadModelParams(path), { signal });
  }

  /** Stops the reply being generated or scored (the panel's Cancel). */
  cancelGeneration(): void {
    this.generation?.abort();
  }

  /**
   * Generates the baseline and steered replies (what Generate asks for), then scores both as Analyze
   * Trace scores a trace. Resolves with the reply's final state; Cancel (or the panel closing) stops either phase.
   */
  async generate(request: WebviewMessages['generate']): Promise<ReplyState> {
    if (this.generation) throw new Error('a reply is being generated: cancel it or wait until it is done');
    const prompt = request.prompt.trim();
    if (!prompt) throw new Error('write a prompt first: it is what the model replies to');
    const steering = checkSteering({ ...this.state.steering, prompt: request.prompt, maxTokens: request.maxTokens, compare: request.compare }, this.state.directions);
    this.state = { ...this.state, steering };
    const generation = new AbortController();
    this.generation = generation;
    const reply: ReplyState = {
      status: 'running',
      prompt,
      steering: request.steering,
      baseline: request.compare ? { text: '', done: false, tokens: 0 } : null,
      steered: { text: '', done: false, tokens: 0 },
      comparison: null,
      warnings: [],
      error: null,
    };
    this.reply = reply;
    this.postReply();
    const onNotification = <M extends NotificationMethod>(method: M, params: EngineNotifications[M]) => {
      if (this.reply !== reply) return;
      // Before the first token: the engine adding the steering blocks the reply needs (once per model).
      if (method === 'progress') reply.progress = (params as EngineNotifications['progress']).message;
      else if (method === 'replySnapshot') {
        const { stream, text, done } = params as EngineNotifications['replySnapshot'];
        reply[stream] = { text, done, tokens: (reply[stream]?.tokens ?? 0) + 1 };
        reply.progress = null;
      } else return;
      this.postReplySoon();
    };
    try {
      await this.ensureModel(generation.signal);
      const result: GenerateResult = await this.deps.engine.request(
        'generate',
        { prompt, steering: request.steering, compare: request.compare, maxTokens: request.maxTokens, segmentation: segmentation() },
        { signal: generation.signal, onNotification },
      );
      Object.assign(reply, {
        status: 'scoring',
        steered: { text: result.steered, done: true, tokens: reply.steered.tokens },
        baseline: result.baseline === null ? null : { text: result.baseline, done: true, tokens: reply.baseline?.tokens ?? 0 },
        comparison: result.comparison,
        warnings: result.warnings,
      });
      await this.scoreReplies(reply, result.comparison, generation.signal);
    } catch (error) {
      reply.status = generation.signal.aborted ? 'cancelled' : 'failed';
      reply.error = generation.signal.aborted ? null : error instanceof Error ? error.message : String(error);
    } finally {
      reply.progress = null;
      if (this.generation === generation) this.generation = null;
      if (this.reply === reply) this.postReply();
    }
    return reply;
  }

  /**
   * The generated pair (or the steered reply alone, without a baseline) scored as the shown trace was;
   * keyword classes stay when scoring fails, and a cancel keeps them too.
   */
  private async scoreReplies(reply: ReplyState, comparison: Comparison | null, signal: AbortSignal): Promise<void> {
    const shown = this.state.trace;
    const choice = this.deps.scoringChoice(shown ? { name: shown.file.source.name, file: shown.file } : null);
    reply.scoredAs = choice.source;
    this.postReply();
    let reported: 'baseline' | 'steered' | null = null;
    const progress = {
      signal,
      report: (which: 'baseline' | 'steered', words: string) => {
        if (this.reply !== reply) return;
        reply.progress = comparison ? `Scoring the ${which} reply (${which === 'baseline' ? 1 : 2} of 2): ${words}` : `Scoring the reply: ${words}`;
        // A reply's first report is shown at once: a short reply can be scored within the flush delay, and the
        // line would skip from nothing to the next reply.
        if (which !== reported) this.postReply();
        else this.postReplySoon();
        reported = which;
      },
    };
    try {
      if (comparison) reply.comparison = await scoreReplies(this.deps.engine, comparison, choice, progress);
      else reply.scored = await scoreLoneReply(this.deps.engine, reply.prompt, reply.steered.text, choice, progress);
      reply.status = 'done';
    } catch (error) {
      if (signal.aborted || isCancelled(error)) throw error;
      reply.status = 'done';
      reply.warnings = [...reply.warnings, `The ${comparison ? 'replies were' : 'reply was'} not scored beyond keyword classes: ${error instanceof Error ? error.message : String(error)}`];
    }
  }
}

function showFailure(error: unknown): void {
  void vscode.window.showErrorMessage(`ThinkScope: ${error instanceof Error ? error.message : String(error)}`);
}
