// Entry point of the VS Code extension.
import * as vscode from 'vscode';
import { registerModelSelection } from './model-selection';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('ThinkScope', { log: true });
  context.subscriptions.push(log);
  registerModelSelection(context, log);
  log.info(`ThinkScope ${context.extension.packageJSON.version} activated`);
}

export function deactivate(): void {}
