// Which checkpoint the engine will load: the `thinkscope.modelPath` setting, shown in the status bar
// and chosen with "ThinkScope: Select Model…".
import * as vscode from 'vscode';

export const SELECT_MODEL_COMMAND = 'thinkscope.selectModel';
const MODEL_PATH_SETTING = 'modelPath';

function configuredModelPath(): string {
  return vscode.workspace.getConfiguration('thinkscope').get<string>(MODEL_PATH_SETTING, '').trim();
}

/** A Hugging Face checkpoint folder is recognised by its config.json. */
async function isCheckpointFolder(folder: vscode.Uri): Promise<boolean> {
  try {
    const config = await vscode.workspace.fs.stat(vscode.Uri.joinPath(folder, 'config.json'));
    return (config.type & vscode.FileType.File) !== 0;
  } catch {
    return false;
  }
}

function pickFolder(): Thenable<vscode.Uri[] | undefined> {
  return vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    openLabel: 'Use This Model',
    title: 'Select a Hugging Face checkpoint folder (with config.json, *.safetensors, tokenizer.json)',
  });
}

/**
 * Records a checkpoint folder as the model to use. The folder comes from the caller (another
 * command, a test) or, without one, from a folder picker. Returns the recorded path,
 * or undefined when nothing was chosen or the folder is not a checkpoint.
 */
async function selectModel(log: vscode.LogOutputChannel, argument?: unknown): Promise<string | undefined> {
  if (argument !== undefined && !(argument instanceof vscode.Uri)) {
    throw new Error(`${SELECT_MODEL_COMMAND} expects a folder Uri or no argument, got ${JSON.stringify(argument)}`);
  }
  const folder = argument ?? (await pickFolder())?.[0];
  if (!folder) return undefined;
  if (!(await isCheckpointFolder(folder))) {
    const message = `${folder.fsPath} is not a Hugging Face checkpoint folder: it has no config.json. Choose the folder that holds config.json, the *.safetensors files and tokenizer.json.`;
    log.warn(message);
    void vscode.window.showErrorMessage(message);
    return undefined;
  }
  await vscode.workspace.getConfiguration('thinkscope').update(MODEL_PATH_SETTING, folder.fsPath, vscode.ConfigurationTarget.Global);
  log.info(`model folder set to ${folder.fsPath}`);
  return folder.fsPath;
}

function showModel(item: vscode.StatusBarItem): void {
  const modelPath = configuredModelPath();
  const name = modelPath.split(/[\\/]/).filter(Boolean).pop();
  item.text = name ? `$(hubot) ThinkScope: ${name}` : '$(hubot) ThinkScope: no model';
  item.tooltip = modelPath ? `Model: ${modelPath}\nClick to choose another checkpoint folder` : 'Click to choose a Hugging Face checkpoint folder';
}

/** Registers the command and the status bar item; both are disposed with the extension. */
export function registerModelSelection(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): void {
  const item = vscode.window.createStatusBarItem('thinkscope.model', vscode.StatusBarAlignment.Left, 0);
  item.name = 'ThinkScope Model';
  item.command = SELECT_MODEL_COMMAND;
  showModel(item);
  item.show();
  context.subscriptions.push(
    item,
    vscode.commands.registerCommand(SELECT_MODEL_COMMAND, (argument?: unknown) => selectModel(log, argument)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`thinkscope.${MODEL_PATH_SETTING}`)) showModel(item);
    }),
  );
}
