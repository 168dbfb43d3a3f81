// An engine on another machine (here: `thinkscope serve --port N` on this one): the extension
// connects to it when `thinkscope.engine.location` says host:port, with the token stored by
// "ThinkScope: Set Engine Token", loads the model there, and says so plainly when the connection goes away.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { TraceFile } from '../../../extension/common/bundle/trace-file';
import type { ThinkScopeApi } from '../../../extension/vscode/extension';
import { EXTENSION_ID, fixture, thinkScope, useModel, waitFor, workspaceFile } from './support';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('ThinkScope engine over TCP (thinkscope.engine.location = host:port)', () => {
  let api: ThinkScopeApi;
  let server: ChildProcess;
  let location: string;
  let output = '';

  before(async () => {
    api = await thinkScope();
    await useModel(api);
    const port = await freePort();
    location = `127.0.0.1:${port}`;
    const cli = join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'cli.js');
    // The fixtures live in temporary folders: the engine serves the whole file system to this test.
    server = spawn(process.execPath, [cli, 'serve', '--port', String(port), '--root', '/'], { stdio: ['ignore', 'ignore', 'pipe'] });
    server.stderr!.on('data', (chunk) => (output += chunk));
    await waitFor('the engine to listen', () => output.includes('listening') && /token: \S+/.test(output));
    await vscode.commands.executeCommand('thinkscope.setEngineToken', 'wrong-token-of-enough-length');
    await vscode.workspace.getConfiguration('thinkscope').update('engine.location', location, vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    server.kill();
    await vscode.commands.executeCommand('thinkscope.setEngineToken', '');
    await vscode.workspace.getConfiguration('thinkscope').update('engine.location', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('says how to set the token when the stored one is wrong, then connects with the right one', async () => {
    await assert.rejects(api.engine.request('describeDirection', { path: fixture('THINKSCOPE_TEST_DIRECTION') }), /engine token is wrong/);
    const token = /token: (\S+)/.exec(output)![1];
    await vscode.commands.executeCommand('thinkscope.setEngineToken', token);
  });

  it('analyses with the remote engine, the model loaded there first', async () => {
    const document = await vscode.workspace.openTextDocument(workspaceFile('reasoner-trace.md'));
    await vscode.window.showTextDocument(document);
    const result = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', { uri: document.uri, seal: true });
    assert.ok(result && result.steps.length > 5, 'no analysis from the remote engine');
    assert.equal(api.enginePid(), undefined, 'a local engine process was started');
    assert.equal(api.engine.state.model?.path, fixture('THINKSCOPE_TEST_MODEL'));
  });

  it('fails plainly when the remote engine goes away, and uses the local one again when told', async () => {
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(workspaceFile('reasoner-trace.md')));
    const pending = api.engine.request('analyzeTrace', { text, fileName: 'reasoner-trace.md', segmentation: 'sentence', tts: true, seal: true, persona: false });
    server.kill('SIGKILL');
    await assert.rejects(pending, new RegExp(`The ThinkScope engine stopped \\(the connection to ${location} closed\\)`));
    await vscode.workspace.getConfiguration('thinkscope').update('engine.location', 'local', vscode.ConfigurationTarget.Global);
    const info = await api.engine.request('describeDirection', { path: fixture('THINKSCOPE_TEST_DIRECTION') });
    assert.equal(info.method, 'seal');
    await waitFor('a local engine', () => api.enginePid());
  });
});
