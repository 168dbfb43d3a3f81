// Before a window reload (see index.ts): the ThinkScope panel showing an analysed trace beside it,
// drawn and left open.
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { ThinkScopePanel } from '../../../extension/vscode/panels';
import { sampleTraceFile } from '../../unit/bundle-fixtures';
import { RESTORED_TRACE, thinkScope, workspaceFile } from './support';

describe('ThinkScope: the ThinkScope panel open when the window reloads', () => {
  it('shows an analysed trace beside its document', async () => {
    const api = await thinkScope();
    const file = sampleTraceFile();
    const uri = workspaceFile(RESTORED_TRACE);
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(file.source.text));
    await vscode.window.showTextDocument(uri, { viewColumn: vscode.ViewColumn.One });
    api.results.set(uri, file);
    const panel = await vscode.commands.executeCommand<ThinkScopePanel>('thinkscope.openPanel');
    await panel.whenRendered((r) => r.traceName === file.source.name && r.bars === file.steps.length, 15_000);
  });
});
