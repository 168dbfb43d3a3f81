// The ThinkScope panel (Steps, Persona and Steering views in one webview): the "Open Panel" command
// and the serializer that brings the panel back after a reload, showing what it showed without
// recomputing anything.
import * as vscode from 'vscode';
import { PANEL_VIEWS, PANEL_VIEW_TYPE, type PanelView } from '../../common/webview-protocol';
import { Commands } from '../command-ids';
import type { EngineClient, TraceResults } from '../contracts';
import type { DirectionStore } from '../direction-store';
import { ThinkScopePanel, type PanelDependencies } from './panel';
import { restoredPanel } from './steering';
import type { LiveCounterfactuals } from '../counterfactuals';
import type { AnalysisDirections } from '../analysis-directions';
import { replyScoring } from '../reply-scoring';

export type { ThinkScopePanel } from './panel';

/** What "Open Panel" accepts from a command link or another command (all optional). */
export interface OpenPanelArguments {
  /** The document whose analysed trace to show (a Uri or its string form). */
  uri?: vscode.Uri | string;
  view?: PanelView;
  /** A step to reveal in the editor once the panel shows the trace. */
  step?: number;
}

/** Registers Open Panel and the panel's serializer; returns the panel open now (what tests read). */
export function registerPanels(
  context: vscode.ExtensionContext,
  engine: EngineClient,
  results: TraceResults,
  directions: DirectionStore,
  counterfactuals: LiveCounterfactuals,
  analysisDirections: AnalysisDirections,
): () => ThinkScopePanel | undefined {
  const deps: PanelDependencies = {
    extensionUri: context.extensionUri,
    engine,
    results,
    directions,
    counterfactuals,
    scoringChoice: replyScoring(context.globalState, analysisDirections),
  };
  let current: ThinkScopePanel | undefined;
  const track = (panel: ThinkScopePanel) => {
    current = panel;
    panel.onDidDispose(() => {
      if (current === panel) current = undefined;
    });
    return panel;
  };

  const open = async (argument?: unknown): Promise<ThinkScopePanel> => {
    const { uri, view, step } = openArguments(argument);
    const panel = current ?? track(ThinkScopePanel.create(deps, view));
    panel.reveal(view);
    if (uri && !panel.showTraceOf(uri)) {
      void vscode.window.showInformationMessage(`${uri.path.split('/').pop()} has not been analysed yet: run "ThinkScope: Analyze Trace" on it first.`);
    } else if (step !== undefined) {
      await panel.revealStep(step);
    }
    return panel;
  };

  context.subscriptions.push(
    { dispose: () => current?.dispose() },
    // Returns the panel, so other commands and tests can wait on what it shows.
    vscode.commands.registerCommand(Commands.openPanel, open),
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, saved: unknown) {
        if (current) {
          // One panel at a time: a second restored one would show the same thing.
          panel.dispose();
          return;
        }
        track(ThinkScopePanel.restore(panel, deps, restoredPanel(saved)));
      },
    }),
  );
  return () => current;
}

function openArguments(argument: unknown): { uri?: vscode.Uri; view?: PanelView; step?: number } {
  if (argument === undefined || argument === null) return {};
  if (argument instanceof vscode.Uri) return { uri: argument };
  if (typeof argument !== 'object') throw new Error(`${Commands.openPanel} expects no argument, a Uri, or { uri?, view?, step? }; got ${JSON.stringify(argument)}`);
  const { uri, view, step } = argument as OpenPanelArguments;
  if (view !== undefined && !PANEL_VIEWS.includes(view)) throw new Error(`${Commands.openPanel}: view must be one of ${PANEL_VIEWS.join(', ')}, got ${JSON.stringify(view)}`);
  if (step !== undefined && !Number.isInteger(step)) throw new Error(`${Commands.openPanel}: step must be a step index, got ${JSON.stringify(step)}`);
  return { uri: typeof uri === 'string' ? vscode.Uri.parse(uri) : uri, view, step };
}
