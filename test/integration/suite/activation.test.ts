// The extension as VS Code sees it: installed, activated, its commands and settings in place.
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';

const EXTENSION_ID = 'thinkscope.thinkscope';

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
  });

  describe('ThinkScope: Select Model…', () => {
    let scratch: string;
    before(() => {
      scratch = mkdtempSync(join(tmpdir(), 'thinkscope-model-'));
    });
    after(async () => {
      await vscode.workspace.getConfiguration('thinkscope').update('modelPath', undefined, vscode.ConfigurationTarget.Global);
      rmSync(scratch, { recursive: true, force: true });
    });

    it('records a checkpoint folder in thinkscope.modelPath', async () => {
      const checkpoint = join(scratch, 'Qwen2.5-0.5B');
      mkdirSync(checkpoint);
      writeFileSync(join(checkpoint, 'config.json'), '{"model_type": "qwen2"}');
      const recorded = await vscode.commands.executeCommand('thinkscope.selectModel', vscode.Uri.file(checkpoint));
      assert.equal(recorded, checkpoint);
      assert.equal(vscode.workspace.getConfiguration('thinkscope').get('modelPath'), checkpoint);
    });

    it('refuses a folder without config.json and keeps the previous model', async () => {
      const before = vscode.workspace.getConfiguration('thinkscope').get('modelPath');
      const notACheckpoint = join(scratch, 'photos');
      mkdirSync(notACheckpoint);
      const recorded = await vscode.commands.executeCommand('thinkscope.selectModel', vscode.Uri.file(notACheckpoint));
      assert.equal(recorded, undefined);
      assert.equal(vscode.workspace.getConfiguration('thinkscope').get('modelPath'), before);
    });

    it('rejects an argument that is not a folder Uri with a clear message', async () => {
      await assert.rejects(
        Promise.resolve(vscode.commands.executeCommand('thinkscope.selectModel', '/some/path')),
        /expects a folder Uri or no argument/,
      );
    });
  });
});
