// After the window reload (see index.ts): the pruning panel left open comes back by itself, drawing the
// report it showed (the rows of the table written beside the traces), with no model loaded.
import * as assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import { RESTORE_TIMEOUT, RESTORED_PRUNE_FOLDER, thinkScope, waitFor, webviewTabs, workspaceFile } from './support';

describe('ThinkScope: after the window reloads', function () {
  this.timeout(2 * RESTORE_TIMEOUT);

  it('brings the pruning panel back, drawing the rows it showed', async () => {
    const api = await thinkScope();
    const folder = workspaceFile(RESTORED_PRUNE_FOLDER);
    const panel = await waitFor('the restored pruning panel', () => api.pruneReportPanel(folder.fsPath), RESTORE_TIMEOUT);
    const drawn = await panel.whenRendered((d) => d.rows.length > 0, RESTORE_TIMEOUT);
    const table = new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder, 'prune-report', 'prune-table.md')));
    assert.equal(drawn.rows.length, 1, 'one rule, one row');
    for (const row of drawn.rows) assert.ok(table.includes(`| ${row.join(' | ')} |`), `the restored panel's row ${row.join(', ')} is a row of the written table`);
    assert.deepEqual(webviewTabs(), [`Pruning ${RESTORED_PRUNE_FOLDER}`], 'the panel is back in its tab');
    assert.equal(api.engine.state.model, null, 'nothing was recomputed: no model is loaded after the reload');
  });
});
