// `thinkscope serve --port`: whatever a client sends or does — no token, a wrong one, an HTTP request
// a web page made, garbage, oversized lines, a reset, a kill mid-request, paths outside the root —
// the engine answers that client alone and keeps serving the others.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, PROTOCOL_VERSION } from '../../extension/common/protocol';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { LineClient, startEngine, TOKEN, type ServedEngine } from './engine';
import { GREETING_MS } from '../../extension/engine/server/transport';

const sample = readFile(join(__dirname, '..', 'fixtures', 'sample-trace.md'), 'utf8');

describe('the engine served over TCP', () => {
  let work: string;
  let root: string;
  let engine: ServedEngine;

  /** The engine still answers a fresh, authenticated client. */
  async function stillServes(): Promise<void> {
    const client = await LineClient.ready(engine.port);
    const answer = await client.request('describeDirection', { path: join(root, 'none') });
    assert.match(answer.error!.message, /not a ThinkScope direction folder/);
    client.end();
    assert.equal(engine.process.exitCode, null, 'the engine process ended');
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'fault-server-'));
    root = join(work, 'served');
    await mkdir(root);
    await makeModel({ preset: 'tiny', arch: 'qwen2', outDir: join(root, 'model'), seed: 3 });
    await writeFile(join(work, 'secret.txt'), 'TOP-SECRET-BYTES\n');
    await symlink(join(work, 'secret.txt'), join(root, 'link-out.txt'));
    engine = await startEngine(root, join(work, 'cache'));
  });

  after(async () => {
    engine.process.kill();
    await engine.exited;
    await rm(work, { recursive: true, force: true });
  });

  it('refuses a client without a token, or with a wrong one, and closes its connection', async () => {
    for (const token of [undefined, 'wrong-token-wrong-token']) {
      const client = await LineClient.connect(engine.port);
      const answer = await client.request('initialize', { client: 'x', protocol: PROTOCOL_VERSION, ...(token ? { token } : {}) });
      assert.equal(answer.error!.code, ErrorCodes.unauthorized);
      assert.match(answer.error!.message, token ? /token is wrong/ : /needs a token/);
      assert.ok(await client.closesWithin(5000), 'the connection stays open');
    }
    // A second initialize on an authenticated connection names the token too.
    const again = await LineClient.ready(engine.port);
    const second = await again.request('initialize', { client: 'x', protocol: PROTOCOL_VERSION, token: 'wrong-token-wrong-token' });
    assert.equal(second.error!.code, ErrorCodes.unauthorized);
    assert.ok(await again.closesWithin(5000), 'the connection stays open');
    const early = await LineClient.connect(engine.port);
    const answer = await early.request('loadModel', { path: join(root, 'model') });
    assert.equal(answer.error!.code, ErrorCodes.unauthorized);
    assert.ok(await early.closesWithin(5000));
    await stillServes();
  });

  it('tells a client without the token nothing about the served folder or its request checks', async () => {
    // A path outside the root, a wrong type, an unknown method: each would say something if checked.
    const probes: [string, unknown][] = [
      ['loadModel', { path: '/etc/passwd' }],
      ['loadModel', { path: 7 }],
      ['nosuchmethod', {}],
      ['initialize', { client: 'x', protocol: PROTOCOL_VERSION, token: 12345 }],
    ];
    for (const [method, params] of probes) {
      const client = await LineClient.connect(engine.port);
      const answer = await client.request(method, params);
      assert.ok(await client.closesWithin(5000), `${method}: the connection stays open`);
      const message = answer.error!.message;
      assert.doesNotMatch(message, new RegExp(`${root}|outside|unknown method|nosuchmethod`), `${method}: ${message}`);
      if (method !== 'initialize') assert.equal(answer.error!.code, ErrorCodes.unauthorized, `${method}: ${message}`);
    }
    await stillServes();
  });

  it('lets go of a connection that sends no token in time, so idle ones cannot hold every client slot', async () => {
    const idle = await LineClient.connect(engine.port);
    assert.ok(await idle.closesWithin(GREETING_MS + 5000), 'an idle connection is kept');
    assert.match((idle.received[0]?.error as { message: string }).message, /no initialize with the engine token within/);
    await stillServes();
  });

  it('refuses a client of another protocol version with a message that says so', async () => {
    const client = await LineClient.connect(engine.port);
    const answer = await client.request('initialize', { client: 'old', protocol: PROTOCOL_VERSION - 1, token: TOKEN });
    assert.match(answer.error!.message, new RegExp(`speaks protocol ${PROTOCOL_VERSION}, the client ${PROTOCOL_VERSION - 1}`));
    assert.ok(await client.closesWithin(5000));
  });

  it('closes a connection that sends an HTTP request (a web page posting to the port) without running its body', async () => {
    const client = await LineClient.connect(engine.port);
    const body = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'initialize', params: { client: 'web page', protocol: PROTOCOL_VERSION, token: TOKEN } });
    client.send(`POST / HTTP/1.1\r\nHost: 127.0.0.1:${engine.port}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}\n`);
    assert.ok(await client.closesWithin(5000), 'the connection stays open');
    assert.equal(client.received.length, 1, 'only the request line is answered: nothing after it is read');
    assert.equal(client.received[0]?.id, null);
    assert.equal((client.received[0]?.error as { code: number }).code, ErrorCodes.parseError);
    await stillServes();
  });

  it('answers malformed messages with JSON-RPC errors and goes on', async () => {
    const client = await LineClient.ready(engine.port);
    client.send('{"jsonrpc":"2.0","method":"$/cancelRequest"}\n{"jsonrpc":"2.0","method":"progress"}\n{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"x"}}\n');
    const unknown = await client.request('formatDisk', {});
    assert.equal(unknown.error!.code, ErrorCodes.methodNotFound);
    const missing = await client.request('loadModel', {});
    assert.equal(missing.error!.code, ErrorCodes.invalidParams);
    assert.match(missing.error!.message, /loadModel: params lacks the field "path"/);
    const noParams = await client.request('analyzeTrace');
    assert.match(noParams.error!.message, /analyzeTrace: params lacks the field "text"/);
    const wrongType = await client.request('analyzeTrace', { text: 1, fileName: 'a.md', segmentation: 'sentence', tts: false, seal: true, persona: false });
    assert.match(wrongType.error!.message, /params\.text must be string/);
    const extra = await client.request('describeDirection', { path: join(root, 'x'), evil: true });
    assert.match(extra.error!.message, /unknown field "evil"/);
    assert.ok((await client.request('loadModel', { path: join(root, 'model') })).result);
    const analysis = await client.request('analyzeTrace', { text: await sample, fileName: 'sample-trace.md', segmentation: 'paragraph', tts: false, seal: true, persona: false });
    assert.equal((analysis.result as { steps: unknown[] }).steps.length, 24, 'a good request after the bad ones is served');
    // A message that is not JSON-RPC at all ends the connection (a client that speaks something else).
    client.send('{"jsonrpc":"2.0","id":"seven","method":"initialize","params":{}}\n');
    const badId = await client.waitFor((m) => m.id === null && (m.error as { code: number }).code === ErrorCodes.invalidRequest);
    assert.match((badId.error as { message: string }).message, /"id" must be an integer/);
    assert.ok(await client.closesWithin(5000));
    await stillServes();
  });

  it('refuses an oversized line, with or without a newline, without holding it', async () => {
    const greeting = await LineClient.connect(engine.port);
    greeting.send(Buffer.alloc(1024 * 1024, 'x'));
    const refused = await greeting.waitFor((m) => m.id === null, 10_000);
    assert.match((refused.error as { message: string }).message, /larger than 65536 bytes/);
    assert.ok(await greeting.closesWithin(5000), 'an unauthenticated client sending megabytes stays connected');

    const client = await LineClient.ready(engine.port);
    const chunk = Buffer.alloc(8 * 1024 * 1024, 'y');
    for (let sent = 0; sent <= 160 * 1024 * 1024; sent += chunk.length) {
      if (!client.socket.write(chunk)) await new Promise((resolve) => client.socket.once('drain', resolve));
    }
    const big = await client.waitFor((m) => m.id === null, 60_000);
    assert.match((big.error as { message: string }).message, /larger than \d+ bytes: refused/);
    client.send('\n');
    const after = await client.request('initialize', { client: 'again', protocol: PROTOCOL_VERSION, token: TOKEN });
    assert.ok(after.result, 'the same connection is served after the oversized line ends');
    client.end();
  });

  it('keeps serving when a client resets its connection with a request in flight', async () => {
    const client = await LineClient.ready(engine.port);
    client.send(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'loadModel', params: { path: join(root, 'model') } }) + '\n');
    client.send('{"jsonrpc":"2.0","id":10,"method":"analyzeTrace","params":{"text":"' + 'a'.repeat(100000));
    client.socket.resetAndDestroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await stillServes();
  });

  it("cancels the requests of a client killed mid-stream and serves the next client's at once", async () => {
    const script = `
      const net = require('node:net');
      const socket = net.connect(${engine.port}, '127.0.0.1', () => {
        const send = (m) => socket.write(JSON.stringify({ jsonrpc: '2.0', ...m }) + '\\n');
        send({ id: 1, method: 'initialize', params: { client: 'doomed', protocol: ${PROTOCOL_VERSION}, token: '${TOKEN}' } });
        send({ id: 2, method: 'loadModel', params: { path: ${JSON.stringify(join(root, 'model'))} } });
        send({ id: 3, method: 'analyzeTrace', params: { text: ${JSON.stringify(await sample)}, fileName: 'sample-trace.md', segmentation: 'sentence', tts: true, seal: true, persona: false } });
      });
      socket.on('data', (d) => { if (String(d).includes('analysisSnapshot')) process.stdout.write('streaming\\n'); });
    `;
    const doomed = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => doomed.stdout!.on('data', (text) => String(text).includes('streaming') && resolve()));
    doomed.kill('SIGKILL');
    const client = await LineClient.ready(engine.port);
    try {
      for (let tries = 0; tries < 100 && !/a client went away/.test(engine.log()); tries++) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.match(engine.log(), /a client went away: 1 of its requests cancelled/);
      const reply = await client.request('generate', { prompt: 'Hi', steering: [], compare: false, maxTokens: 2 });
      assert.ok(reply.result, JSON.stringify(reply.error));
    } finally {
      client.end();
    }
  });

  it('reads and writes only inside the root, and says so without showing any file bytes', async () => {
    const client = await LineClient.ready(engine.port);
    const attempts: [string, unknown][] = [
      ['loadModel', { path: '/etc' }],
      ['describeDirection', { path: join(work, 'secret.txt') }],
      ['buildDirection', { kind: 'selective', inputs: [join(work, 'secret.txt'), join(root, 'link-out.txt')], out: join(root, 'dir') }],
      ['buildDirection', { kind: 'selective', inputs: ['/etc/passwd', '/etc/passwd'], out: join(root, 'dir') }],
      ['buildDirection', { kind: 'seal', inputs: [join(root, 'model')], out: join(work, 'written-outside') }],
      ['analyzeTrace', { text: 'x', fileName: 'x.md', segmentation: 'sentence', tts: false, seal: true, persona: true, axisDirection: join(root, '..', 'secret.txt') }],
      ['describeDirection', { path: join(root, 'link-out.txt') }],
      ['describeDirection', { path: 'relative/path' }],
    ];
    for (const [method, params] of attempts) {
      const answer = await client.request(method, params);
      assert.equal(answer.error?.code, ErrorCodes.invalidParams, `${method} ${JSON.stringify(params)} was not refused`);
      assert.match(answer.error!.message, /outside the folder this engine serves|give an absolute path/);
      assert.doesNotMatch(answer.error!.message, /TOP-SECRET|root:/);
    }
    await assert.rejects(readFile(join(work, 'written-outside', 'direction.json')));
    // Inside the root too, a file that is not what it should be is named, its bytes never shown.
    await writeFile(join(root, 'prompts.json'), 'SECRET-IN-ROOT-0123456789 and more');
    assert.ok((await client.request('loadModel', { path: join(root, 'model') })).result);
    const unreadable = await client.request('buildDirection', { kind: 'selective', inputs: [join(root, 'prompts.json'), join(root, 'prompts.json')], out: join(root, 'sel') });
    assert.match(unreadable.error!.message, /prompts\.json: not valid JSON/);
    assert.doesNotMatch(unreadable.error!.message, /SECRET/);
    client.end();
  });

  it('serves several clients at once and refuses more than it can hold, with a message', async () => {
    const clients = await Promise.all(Array.from({ length: 8 }, () => LineClient.ready(engine.port)));
    const extra = await LineClient.connect(engine.port);
    assert.ok(await extra.closesWithin(5000));
    assert.match((extra.received[0]?.error as { message: string }).message, /already serves 8 clients/);
    for (const client of clients) client.end();
    await Promise.all(clients.map((client) => client.closed));
    // The engine sees the disconnects a moment after the clients do.
    for (let tries = 0; tries < 100; tries++) {
      const probe = await LineClient.connect(engine.port);
      const refused = await probe.closesWithin(300);
      probe.end();
      if (!refused) break;
    }
    await stillServes();
  });
});

describe('the engine over stdio (how the extension runs it)', () => {
  it('answers garbage, a notification without params and a cancel without params, and keeps serving', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', '..', 'extension', 'cli', 'main.ts'), 'serve', '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (chunk) => (out += chunk));
    child.stdin!.write('{"jsonrpc":"2.0","method":"$/cancelRequest"}\n{"jsonrpc":"2.0","method":"progress"}\nnot json at all\n[1,2]\n');
    child.stdin!.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { client: 'stdio', protocol: PROTOCOL_VERSION } }) + '\n');
    for (let i = 0; i < 600 && !out.includes('"id":1,'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const lines = out.trim().split('\n').map((line) => JSON.parse(line) as { id: unknown; error?: { code: number }; result?: { protocol: number } });
    assert.deepEqual(lines.filter((l) => l.id === null).map((l) => l.error!.code), [ErrorCodes.parseError, ErrorCodes.invalidRequest]);
    assert.equal(lines.find((l) => l.id === 1)?.result?.protocol, PROTOCOL_VERSION);
    assert.equal(child.exitCode, null, 'the engine process ended');
    child.stdin!.end();
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, 'the engine ends cleanly when its client closes stdin');
  });
});
