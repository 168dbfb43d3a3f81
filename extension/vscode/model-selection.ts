// Which checkpoint the engine uses: "ThinkScope: Select Model…" (recent folders or a folder picker)
// loads it in the engine with a progress notification (the first open builds the graph) and records
// it in `thinkscope.modelPath`. The status bar shows the model and whether the engine is busy.

import * as vscode from 'vscode';
import type { ModelInfo } from '../common/protocol';
import { Commands } from './command-ids';
import type { EngineClient, EngineState } from './contracts';
import { reportFailure, withEngineProgress } from './progress';
import { folderName, RecentFolders } from './recent';
import { configuredModelPath, loadModelParams } from './settings';

const MODEL_PATH_SETTING = 'modelPath';
const BROWSE = '$(folder-opened) Browse…';

/** A Hugging Face checkpoint folder is recognised by its config.json. */
async function isCheckpointFolder(folder: vscode.Uri): Promise<boolean> {
  try {
    const config = await vscode.workspace.fs.stat(vscode.Uri.joinPath(folder, 'config.json'));
    return (config.type & vscode.FileType.File) !== 0;
  } catch {
    return false;
  }
}

async function pickFolder(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    openLabel: 'Use This Model',
    title: 'Select a Hugging Face checkpoint folder (with config.json, *.safetensors, tokenizer.json)',
  });
  return picked?.[0];
}

export interface ModelSelection {
  /** Loads the configured model when the engine has none; false (the user told why) when there is none to load. */
  ensureModel(): Promise<boolean>;
}

export function registerModelSelection(context: vscode.ExtensionContext, engine: EngineClient, log: vscode.LogOutputChannel): ModelSelection {
  const recent = new RecentFolders(context.globalState, 'thinkscope.recentModels');

  async function load(path: string): Promise<ModelInfo> {
    return withEngineProgress(`ThinkScope: Loading ${folderName(path)}`, (task) =>
      engine.request('loadModel', loadModelParams(path), { signal: task.signal, onNotification: task.listener() }),
    );
  }

  async function chooseFolder(): Promise<vscode.Uri | undefined> {
    const recents = recent.list();
    if (recents.length === 0) return pickFolder();
    const items: vscode.QuickPickItem[] = [...recents.map((path) => ({ label: folderName(path), description: path })), { label: BROWSE }];
    const chosen = await vscode.window.showQuickPick(items, { title: 'ThinkScope: Select Model', placeHolder: 'A recent checkpoint folder, or Browse… for another' });
    if (!chosen) return undefined;
    return chosen.label === BROWSE ? pickFolder() : vscode.Uri.file(chosen.description!);
  }

  /** The folder from the caller (another command, a test) or from the user; its path once loaded. */
  async function selectModel(argument?: unknown): Promise<string | undefined> {
    if (argument !== undefined && !(argument instanceof vscode.Uri)) {
      throw new Error(`${Commands.selectModel} expects a folder Uri or no argument, got ${JSON.stringify(argument)}`);
    }
    const folder = argument ?? (await chooseFolder());
    if (!folder) return undefined;
    if (!(await isCheckpointFolder(folder))) {
      const message = `${folder.fsPath} is not a Hugging Face checkpoint folder: it has no config.json. Choose the folder that holds config.json, the *.safetensors files and tokenizer.json.`;
      log.warn(message);
      void vscode.window.showErrorMessage(message);
      await recent.remove(folder.fsPath);
      return undefined;
    }
    try {
      const info = await load(folder.fsPath);
      log.info(`loaded ${info.name} (${info.architecture}, ${info.numLayers} layers, ${info.precision}) in ${info.loadSeconds.toFixed(1)} s${info.built ? ', graph built' : ''}`);
    } catch (error) {
      reportFailure(log, `Could not load ${folderName(folder.fsPath)}`, error);
      return undefined;
    }
    await recent.add(folder.fsPath);
    await vscode.workspace.getConfiguration('thinkscope').update(MODEL_PATH_SETTING, folder.fsPath, vscode.ConfigurationTarget.Global);
    return folder.fsPath;
  }

  async function ensureModel(): Promise<boolean> {
    if (engine.state.model) return true;
    const path = configuredModelPath();
    if (!path) {
      const choice = await vscode.window.showErrorMessage('ThinkScope needs a model for this: select a Hugging Face checkpoint folder first.', 'Select Model…');
      if (choice) await vscode.commands.executeCommand(Commands.selectModel);
      return engine.state.model !== null;
    }
    try {
      await load(path);
      return true;
    } catch (error) {
      reportFailure(log, `Could not load ${folderName(path)}`, error);
      return false;
    }
  }

  const item = vscode.window.createStatusBarItem('thinkscope.model', vscode.StatusBarAlignment.Left, 0);
  item.name = 'ThinkScope Model';
  item.command = Commands.selectModel;
  const show = () => showModel(item, engine.state);
  show();
  item.show();
  context.subscriptions.push(
    item,
    engine.onDidChangeState(show),
    vscode.commands.registerCommand(Commands.selectModel, selectModel),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`thinkscope.${MODEL_PATH_SETTING}`)) show();
    }),
  );
  return { ensureModel };
}

const STATUS_ICON: Record<EngineState['status'], string> = { stopped: '$(hubot)', idle: '$(hubot)', starting: '$(loading~spin)', busy: '$(loading~spin)' };
const STATUS_WORDS: Record<EngineState['status'], string> = {
  stopped: 'the engine is not running; it starts on the next request',
  starting: 'the engine is starting',
  idle: 'the engine is idle',
  busy: 'the engine is working',
};

function showModel(item: vscode.StatusBarItem, state: EngineState): void {
  const path = state.model?.path ?? configuredModelPath();
  const name = state.model?.name ?? (path ? folderName(path) : undefined);
  item.text = `${STATUS_ICON[state.status]} ThinkScope: ${name ?? 'no model'}`;
  const loaded = state.model ? `${state.model.architecture}, ${state.model.numLayers} layers, ${state.model.precision}` : path ? 'not loaded yet' : '';
  item.tooltip = path
    ? `Model: ${path} (${loaded})\nStatus: ${STATUS_WORDS[state.status]}\nClick to choose another checkpoint folder`
    : `Status: ${STATUS_WORDS[state.status]}\nClick to choose a Hugging Face checkpoint folder`;
}
