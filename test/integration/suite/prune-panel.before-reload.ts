// Before the window reload (see index.ts): a folder pruned from the editor, its pruning panel drawn
// and left open, as a user leaves a window they reload.
import * as assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { PruneFolderOutcome } from '../../../extension/vscode/prune-folder-command';
import { CHECK_TTS, RESTORED_PRUNE_FOLDER, thinkScope, useModel, workspaceFile } from './support';

describe('ThinkScope: a pruning panel open when the window reloads', () => {
  it('prunes a folder and leaves its panel open, drawn', async () => {
    await useModel(await thinkScope());
    const folder = workspaceFile(RESTORED_PRUNE_FOLDER);
    await vscode.workspace.fs.createDirectory(folder);
    await vscode.workspace.fs.copy(workspaceFile('reasoner-trace.md'), vscode.Uri.joinPath(folder, 'reasoner-trace.md'), { overwrite: true });
    const outcome = await vscode.commands.executeCommand<PruneFolderOutcome | undefined>('thinkscope.pruneFolder', { folder: folder.toString(), rules: [{ kind: 'threshold', value: CHECK_TTS }] });
    assert.ok(outcome, 'the batch returned nothing');
    await outcome.panel.whenRendered((drawn) => drawn.rows.length > 0, 20_000);
  });
});
