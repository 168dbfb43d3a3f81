// A chat template is code from the model folder. One that loops for ever, allocates without end or
// writes gigabytes is stopped within the time limit with a message that says so, and the engine goes
// on serving: the next request (with a sound template) is answered.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { TextTokenizer } from '../../extension/engine/checkpoint/tokenizer';
import { RpcConnection } from '../../extension/common/rpc';
import { EngineService } from '../../extension/engine/server/engine-service';
import { analysisBackend } from '../../extension/engine/server/analysis-backend';

const chat = [{ role: 'user' as const, content: 'What is 2 + 2?' }];

describe('hostile chat templates', () => {
  let work: string;
  let model: string;

  async function withTemplate(name: string, template: string): Promise<string> {
    const dir = join(work, name);
    await cp(model, dir, { recursive: true });
    const config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...config, chat_template: template }));
    return dir;
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'fault-template-'));
    model = join(work, 'model');
    await makeModel({ preset: 'tiny', arch: 'qwen2', outDir: model, seed: 2 });
  });

  after(() => rm(work, { recursive: true, force: true }));

  it('a range of ten billion, nested large loops and a flood of output are each stopped with a message', async () => {
    const cases: [string, string, RegExp][] = [
      ['huge-range', '{% for i in range(10000000000) %}{{ i }}{% endfor %}', /chat template (did not finish rendering within 5 s|failed to render)/],
      ['nested', '{% for i in range(100000) %}{% for j in range(100000) %}{% for k in range(100000) %}{% endfor %}{% endfor %}{% endfor %}', /did not finish rendering within 5 s/],
      ['flood', "{% for i in range(4000) %}{% for j in range(5000) %}{{ 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' }}{% endfor %}{% endfor %}", /more than the 16777216 a prompt may have|did not finish rendering/],
    ];
    for (const [name, template, expected] of cases) {
      const tokenizer = await TextTokenizer.fromFolder(await withTemplate(name, template));
      assert.throws(() => tokenizer.applyChatTemplate(chat, { addGenerationPrompt: true }), expected, name);
    }
    const sound = await TextTokenizer.fromFolder(model);
    assert.match(sound.applyChatTemplate(chat, { addGenerationPrompt: true }), /What is 2 \+ 2\?/);
  });

  it('through the engine: the request fails with the message, and the next request is served', async () => {
    const hostile = await withTemplate('engine-hang', '{% for i in range(100000) %}{% for j in range(100000) %}{% for k in range(100000) %}{% endfor %}{% endfor %}{% endfor %}');
    process.env.THINKSCOPE_CACHE = join(work, 'cache');
    const service = new EngineService(analysisBackend);
    const server: RpcConnection = new RpcConnection((line) => setImmediate(() => client.receive(line)));
    const client = new RpcConnection((line) => setImmediate(() => server.receive(line)));
    server.onRequest((method, params, context) => service.handle(method, params, context));
    try {
      await client.request('loadModel', { path: hostile });
      await assert.rejects(client.request('generate', { prompt: 'Hi', steering: [], compare: false, maxTokens: 2 }), /chat template did not finish rendering within 5 s/);
      await client.request('loadModel', { path: model });
      const reply = await client.request('generate', { prompt: 'Hi', steering: [], compare: false, maxTokens: 2 });
      assert.equal(typeof reply.steered, 'string');
    } finally {
      await service.dispose();
    }
  });
});
