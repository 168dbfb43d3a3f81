// "ThinkScope: Prune a Folder of Traces": every trace directly in a folder pruned under several rules
// (the engine's batch, as `thinkscope prune FOLDER`), the table and chart of tokens saved vs answers kept
// written to FOLDER/prune-report for sharing and shown in the folder's pruning panel.

import * as vscode from 'vscode';
import { DEFAULT_BATCH_RULES, parsePruneRules } from '../common/analysis/prune';
import type { PruneRule } from '../common/bundle/trace-file';
import type { PruneFolderResult } from '../common/protocol';
import { Commands } from './command-ids';
import type { EngineClient } from './contracts';
import type { ModelSelection } from './model-selection';
import { reportFailure, withEngineProgress } from './progress';
import { registerPruneReportPanels, type PruneReportPanel } from './panels/prune-report';
import { segmentation } from './settings';

/** What a caller (a test) may pass instead of being asked. */
export interface PruneFolderArguments {
  folder?: string;
  rules?: PruneRule[];
}

/** What the command returns: the engine's report and the panel that shows it. */
export interface PruneFolderOutcome extends PruneFolderResult {
  panel: PruneReportPanel;
}

const TITLE = 'ThinkScope: Prune a Folder of Traces';

async function pickFolder(): Promise<vscode.Uri | undefined> {
  const [folder] = (await vscode.window.showOpenDialog({ title: TITLE, canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Prune These Traces' })) ?? [];
  return folder;
}

async function askRules(): Promise<PruneRule[] | undefined> {
  const typed = await vscode.window.showInputBox({
    title: TITLE,
    prompt: 'Rules to compare, comma-separated: a TTS threshold (steps below it go) or the lowest share of steps by TTS (N%)',
    value: DEFAULT_BATCH_RULES,
    validateInput: (value) => {
      try {
        parsePruneRules(value);
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    },
  });
  return typed === undefined ? undefined : parsePruneRules(typed);
}

/** Registers the command and the folders' panels; returns the open panel of a folder (what tests read). */
export function registerPruneFolder(context: vscode.ExtensionContext, engine: EngineClient, models: ModelSelection, log: vscode.LogOutputChannel): (folder: string) => PruneReportPanel | undefined {
  const panels = registerPruneReportPanels(context);
  async function pruneFolder(argument: unknown): Promise<PruneFolderOutcome | undefined> {
    const options: PruneFolderArguments = argument instanceof vscode.Uri ? { folder: argument.toString() } : ((argument ?? {}) as PruneFolderArguments);
    const folder = options.folder !== undefined ? vscode.Uri.parse(options.folder) : await pickFolder();
    if (!folder) return undefined;
    if (folder.scheme !== 'file') {
      void vscode.window.showErrorMessage(`${TITLE}: the engine reads the traces from disk; choose a folder on this machine.`);
      return undefined;
    }
    const rules = options.rules ?? (await askRules());
    if (!rules || rules.length === 0) return undefined;
    if (!(await models.ensureModel())) return undefined;
    const out = vscode.Uri.joinPath(folder, 'prune-report');
    try {
      const result = await withEngineProgress(`ThinkScope: Pruning the traces of ${folder.path.split('/').pop()}`, (task) =>
        engine.request('pruneFolder', { folder: folder.fsPath, out: out.fsPath, rules, segmentation: segmentation() }, { signal: task.signal, onNotification: task.listener() }),
      );
      log.info(`pruned ${result.traces} traces of ${folder.fsPath} under ${rules.length} rules:\n${result.table}`);
      const panel = panels.show({ folder: folder.fsPath, traces: result.traces, points: result.points, rows: result.rows, written: result.written });
      return { ...result, panel };
    } catch (error) {
      reportFailure(log, TITLE, error);
      return undefined;
    }
  }

  context.subscriptions.push(vscode.commands.registerCommand(Commands.pruneFolder, pruneFolder));
  return (folder) => panels.get(folder);
}
