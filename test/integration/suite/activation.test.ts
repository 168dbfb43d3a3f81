// The extension as VS Code sees it: installed, activated, its commands and settings in place.
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { EXTENSION_ID, fixture, thinkScope } from './support';

describe('ThinkScope extension', () => {
  let extension: vscode.Extension<unknown>;

  before(async () => {
    const found = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(found, `${EXTENSION_ID} is not installed in this VS Code`);
    extension = found;
    await extension.activate();
  });

  it('activates without error', () => {
    assert.equal(extension.isActive, true);
  });

  it('registers every command it contributes to the palette', async () => {
    const contributed: { command: string }[] = extension.packageJSON.contributes.commands;
    assert.ok(contributed.length > 0, 'package.json contributes no commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.map((c) => c.command).filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });

  it('exposes its settings with their documented defaults', () => {
    const settings = vscode.workspace.getConfiguration('thinkscope');
    assert.equal(settings.get('modelPath'), '');
    assert.equal(settings.get('engine.location'), 'local');
    assert.equal(settings.get('engine.precision'), 'fp32');
    assert.equal(settings.get('segmentation'), 'sentence');
    assert.equal(settings.get('tts.cue'), '\n The final answer is \\boxed{');
    assert.equal(settings.get('persona.cappingPercentile'), 25);
    assert.equal(settings.get('seal.layer'), null);
    const keywords = settings.get<{ reflection: { startsWith: string[] } }>('seal.keywords');
    assert.deepEqual(keywords?.reflection.startsWith, ['Wait']);
    // Every contributed setting reads back as its declared default (none is shadowed by another).
    const properties: Record<string, { default: unknown }> = extension.packageJSON.contributes.configuration.properties;
    for (const [key, declared] of Object.entries(properties)) {
      assert.deepEqual(vscode.workspace.getConfiguration().get(key), declared.default, key);
    }
  });

  describe('ThinkScope: Select Model…', () => {
    let scratch: string;
    before(() => {
      scratch = mkdtempSync(join(tmpdir(), 'thinkscope-model-'));
    });
    after(() => {
      rmSync(scratch, { recursive: true, force: true });
    });

    it('loads a checkpoint folder in the engine and records it in thinkscope.modelPath', async () => {
      const api = await thinkScope();
      const checkpoint = fixture('THINKSCOPE_TEST_MODEL');
      const recorded = await vscode.commands.executeCommand('thinkscope.selectModel', vscode.Uri.file(checkpoint));
      assert.equal(recorded, checkpoint);
      assert.equal(vscode.workspace.getConfiguration('thinkscope').get('modelPath'), checkpoint);
      assert.equal(api.engine.state.model?.path, checkpoint);
      assert.equal(api.engine.state.model?.architecture, 'qwen2');
      assert.equal(api.engine.state.status, 'idle');
      assert.ok(api.enginePid(), 'the engine runs as a process of its own');
      assert.notEqual(api.enginePid(), process.pid);
    });

    it('refuses a folder without config.json and keeps the previous model', async () => {
      const before = vscode.workspace.getConfiguration('thinkscope').get('modelPath');
      const notACheckpoint = join(scratch, 'photos');
      mkdirSync(notACheckpoint);
      const recorded = await vscode.commands.executeCommand('thinkscope.selectModel', vscode.Uri.file(notACheckpoint));
      assert.equal(recorded, undefined);
      assert.equal(vscode.workspace.getConfiguration('thinkscope').get('modelPath'), before);
    });

    it('keeps the loaded model when the engine cannot load the chosen folder', async () => {
      const api = await thinkScope();
      const broken = join(scratch, 'Qwen2.5-0.5B');
      mkdirSync(broken);
      writeFileSync(join(broken, 'config.json'), '{"model_type": "qwen2"}');
      const recorded = await vscode.commands.executeCommand('thinkscope.selectModel', vscode.Uri.file(broken));
      assert.equal(recorded, undefined);
      assert.equal(vscode.workspace.getConfiguration('thinkscope').get('modelPath'), fixture('THINKSCOPE_TEST_MODEL'));
      assert.equal(api.engine.state.model?.path, fixture('THINKSCOPE_TEST_MODEL'));
    });

    it('rejects an argument that is not a folder Uri with a clear message', async () => {
      await assert.rejects(
        Promise.resolve(vscode.commands.executeCommand('thinkscope.selectModel', '/some/path')),
        /expects a folder Uri or no argument/,
      );
    });
  });
});
