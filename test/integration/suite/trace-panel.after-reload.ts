// After a window reload (see index.ts): the ThinkScope panel left open comes back by itself, drawing the
// trace it showed, and Open Panel returns it rather than opening a second one.
import * as assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { ThinkScopePanel } from '../../../extension/vscode/panels';
import { sampleTraceFile } from '../../unit/bundle-fixtures';
import { RESTORE_TIMEOUT, thinkScope, waitFor, webviewTabs } from './support';

describe('ThinkScope: after the window reloads', function () {
  this.timeout(2 * RESTORE_TIMEOUT);

  it('brings the ThinkScope panel back, drawing the trace it showed', async () => {
    const api = await thinkScope();
    const file = sampleTraceFile();
    const restored = await waitFor('the restored ThinkScope panel', () => api.thinkScopePanel(), RESTORE_TIMEOUT);
    const report = await restored.whenRendered((r) => r.traceName !== null, RESTORE_TIMEOUT);
    assert.equal(report.traceName, file.source.name);
    assert.equal(report.bars, file.steps.length);
    assert.equal(await vscode.commands.executeCommand<ThinkScopePanel>('thinkscope.openPanel'), restored, 'Open Panel returns the restored panel');
    assert.deepEqual(webviewTabs(), ['ThinkScope']);
  });
});
