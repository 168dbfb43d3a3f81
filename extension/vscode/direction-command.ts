// "ThinkScope: Build Direction…": the kind, its inputs (trace files and folders, role folders, or a
// positive and a negative prompt file), the output folder; built by the engine with progress and
// Cancel, then remembered for steering.

import * as vscode from 'vscode';
import type { BuildDirectionParams } from '../common/protocol';
import { DIRECTION_LABELS, type LoadedDirection } from '../common/webview-protocol';
import { Commands } from './command-ids';
import { announceWritten } from './written-files';
import type { EngineClient } from './contracts';
import type { DirectionStore } from './direction-store';
import type { ModelSelection } from './model-selection';
import { reportFailure, withEngineProgress } from './progress';

type Kind = BuildDirectionParams['kind'];

const KINDS: (vscode.QuickPickItem & { build: Kind })[] = [
  { build: 'seal', label: DIRECTION_LABELS.seal, detail: 'Reflection and transition steps minus execution steps, from traces with <think>' },
  { build: 'truethinking', label: DIRECTION_LABELS.truethinking, detail: 'High- minus low-TTS steps, from analysed traces (.thinktrace.json files with True Thinking Scores)' },
  { build: 'assistant-axis', label: DIRECTION_LABELS['assistant-axis'], detail: 'The default assistant minus role-played personas' },
  { build: 'selective', label: DIRECTION_LABELS.selective, detail: 'A rotation plane from a positive and a negative prompt file' },
];

function pick(title: string, options: { files: boolean; folders: boolean; many: boolean; label: string }): Thenable<vscode.Uri[] | undefined> {
  return vscode.window.showOpenDialog({ title, canSelectFiles: options.files, canSelectFolders: options.folders, canSelectMany: options.many, openLabel: options.label });
}

async function chooseInputs(kind: Kind): Promise<string[] | undefined> {
  if (kind === 'truethinking') {
    const picked = await pick('Analysed traces to learn from: .thinktrace.json files (Analyze Trace with True Thinking Score, then Export Trace…) or folders of them', {
      files: true,
      folders: true,
      many: true,
      label: 'Use These Results',
    });
    return picked?.map((uri) => uri.fsPath);
  }
  if (kind === 'seal') {
    const picked = await pick('Traces to learn from: files or folders of traces with <think> blocks', { files: true, folders: true, many: true, label: 'Use These Traces' });
    return picked?.map((uri) => uri.fsPath);
  }
  if (kind === 'selective') {
    const positive = await pick('Prompts of the behaviour to steer toward (one per line, or JSON/JSONL)', { files: true, folders: false, many: false, label: 'Positive Prompts' });
    if (!positive?.length) return undefined;
    const negative = await pick('Prompts of the behaviour to steer away from', { files: true, folders: false, many: false, label: 'Negative Prompts' });
    return negative?.length ? [positive[0].fsPath, negative[0].fsPath] : undefined;
  }
  const source = await vscode.window.showQuickPick(
    [
      { label: 'Bundled role set', detail: 'The roles that ship with ThinkScope', bundled: true },
      { label: 'Choose role folders…', detail: 'Folders of role prompts of your own', bundled: false },
    ],
    { title: 'ThinkScope: Build Direction: roles' },
  );
  if (!source) return undefined;
  if (source.bundled) return [];
  const folders = await pick('Role folders', { files: false, folders: true, many: true, label: 'Use These Roles' });
  return folders?.map((uri) => uri.fsPath);
}

export function registerBuildDirection(context: vscode.ExtensionContext, engine: EngineClient, models: ModelSelection, directions: DirectionStore, log: vscode.LogOutputChannel): void {
  async function build(argument: unknown): Promise<LoadedDirection | undefined> {
    let params = argument as BuildDirectionParams | undefined;
    if (!params) {
      const kind = (await vscode.window.showQuickPick(KINDS, { title: 'ThinkScope: Build Direction', placeHolder: 'Which direction to build' }))?.build;
      if (!kind) return undefined;
      const inputs = await chooseInputs(kind);
      if (!inputs) return undefined;
      const base = vscode.workspace.workspaceFolders?.[0]?.uri;
      const out = await vscode.window.showSaveDialog({
        title: 'Folder to write the direction to (direction.json and direction.safetensors)',
        saveLabel: 'Build Direction Here',
        defaultUri: base ? vscode.Uri.joinPath(base, 'directions', kind) : undefined,
      });
      if (!out) return undefined;
      params = { kind, inputs, out: out.fsPath };
    }
    if (!(await models.ensureModel())) return undefined;
    const request = params;
    const label = KINDS.find((k) => k.build === request.kind)?.label ?? request.kind;
    try {
      const built = await withEngineProgress(`ThinkScope: Building the ${label} direction`, (task) =>
        engine.request('buildDirection', request, { signal: task.signal, onNotification: task.listener() }),
      );
      await directions.add(built);
      log.info(`built ${built.method} direction "${built.name}" at ${built.path} (layers ${built.layers.join(', ')})`);
      const folder = vscode.Uri.file(built.path);
      void announceWritten(`Built the ${label} direction "${built.name}" in ${built.path}. Use it with Steer Reply…, Steer this step or the Steering panel.`, folder, vscode.Uri.joinPath(folder, 'direction.json'));
      return built;
    } catch (error) {
      reportFailure(log, `Build Direction (${label})`, error);
      return undefined;
    }
  }

  context.subscriptions.push(vscode.commands.registerCommand(Commands.buildDirection, build));
}
