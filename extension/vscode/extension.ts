// Entry point of the VS Code extension: the engine client, the analysed traces and everything that
// shows them (decorations, hover, CodeLens, trace viewer, panels), and the palette commands.
import * as vscode from 'vscode';
import { AnalysisDirections } from './analysis-directions';
import { registerAnalyze } from './analyze-command';
import { registerCodeLens } from './codelens';
import { LiveCounterfactuals } from './counterfactuals';
import { registerPrune } from './prune-command';
import { registerPruneFolder } from './prune-folder-command';
import type { PruneReportPanel } from './panels/prune-report';
import { Commands } from './command-ids';
import type { EngineClient, TraceResults } from './contracts';
import { TraceDecorations, type RenderedStep } from './decorations';
import { registerBuildDirection } from './direction-command';
import { DirectionStore } from './direction-store';
import { ProcessEngineClient, registerEngineToken } from './engine-client';
import { registerExport } from './export-command';
import { registerFollowEdits } from './follow-edits';
import { registerHover } from './hover';
import { registerModelSelection } from './model-selection';
import { registerPanels, type ThinkScopePanel } from './panels';
import { ReadableView } from './readable-view';
import { registerResultPersistence } from './result-persistence';
import { registerSteer } from './steer-command';
import { registerSteerStep } from './steer-step-command';
import { registerStepNavigation } from './step-navigation';
import { SteeredSteps } from './steered-steps';
import { TraceResultStore } from './trace-results';
import { TraceViewer } from './trace-viewer';

/** What activate() returns: for other extensions and for the integration tests. */
export interface ThinkScopeApi {
  engine: EngineClient;
  results: TraceResults;
  /** The saved directions every command and the panel offer. */
  directions: DirectionStore;
  /** The answer's readout after edits of analysed traces (and Remove / Perturb this step). */
  counterfactuals: LiveCounterfactuals;
  /** The local engine process's id while one runs. */
  enginePid(): number | undefined;
  /** What the Steps view lists under a document. */
  stepItems(uri: vscode.Uri): vscode.TreeItem[];
  /** The steps decorated in a document's visible editors, rendered first so the answer is current. */
  renderedSteps(uri: vscode.Uri): RenderedStep[];
  /** The ThinkScope panel open now, made by Open Panel or brought back after a reload. */
  thinkScopePanel(): ThinkScopePanel | undefined;
  /** The pruning panel open for a folder (its path), made by Prune Folder or brought back after a reload. */
  pruneReportPanel(folder: string): PruneReportPanel | undefined;
}

export function activate(context: vscode.ExtensionContext): ThinkScopeApi {
  const log = vscode.window.createOutputChannel('ThinkScope', { log: true });
  const engine = new ProcessEngineClient(context.extensionPath, log, context.secrets);
  const results = new TraceResultStore();
  const decorations = new TraceDecorations(results);
  const directions = new DirectionStore(context.globalState, engine);
  const steered = new SteeredSteps(results);
  const counterfactuals = new LiveCounterfactuals(engine, results, log);
  context.subscriptions.push(log, engine, results, decorations, directions, steered, new TraceViewer(results), new ReadableView(results), registerFollowEdits(results), counterfactuals, registerHover(results, steered), registerCodeLens(results));
  const navigation = registerStepNavigation(results);
  context.subscriptions.push(navigation, registerResultPersistence(context.workspaceState, results, log));

  const models = registerModelSelection(context, engine, log);
  const analysisDirections = new AnalysisDirections(context, engine, directions);
  registerAnalyze(context, engine, results, models, analysisDirections, log);
  registerSteer(context, engine, results, models, directions, analysisDirections, log);
  registerSteerStep(context, engine, results, models, directions, steered, log);
  registerBuildDirection(context, engine, models, directions, log);
  registerExport(context, results, log);
  registerPrune(context, engine, results, models, log);
  const pruneReportPanel = registerPruneFolder(context, engine, models, log);
  registerEngineToken(context, engine);
  const thinkScopePanel = registerPanels(context, engine, results, directions, counterfactuals, analysisDirections);
  context.subscriptions.push(
    // The given or active document's annotations; every document's when that one has none.
    vscode.commands.registerCommand(Commands.clearAnnotations, (uri?: vscode.Uri) => {
      const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
      const targets = target && results.get(target) ? [target] : results.uris();
      targets.forEach((each) => results.delete(each));
    }),
    // Which Assistant Axis and SEAL direction this workspace's analyses read, chosen again.
    vscode.commands.registerCommand(Commands.chooseAnalysisDirections, async () => {
      if (!(await models.ensureModel())) return;
      const document = vscode.window.activeTextEditor?.document;
      if ((await analysisDirections.ask('assistant-axis', document)) === undefined) return;
      await analysisDirections.ask('seal', document);
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('thinkscope.engine.location')) engine.restart();
    }),
  );
  log.info(`ThinkScope ${context.extension.packageJSON.version} activated`);
  return {
    engine,
    results,
    directions,
    counterfactuals,
    enginePid: () => engine.pid,
    thinkScopePanel,
    pruneReportPanel,
    stepItems: (uri) => navigation.stepItems(uri),
    renderedSteps: (uri) => {
      decorations.renderNow(uri);
      return decorations.renderedSteps(uri);
    },
  };
}

export function deactivate(): void {}
