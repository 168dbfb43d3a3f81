// `npm run package` makes one .vsix per platform, and each carries exactly its own platform's
// onnxruntime binaries: the native files of every package are listed from the zip itself.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';

const root = join(__dirname, '..', '..');
const ONNXRUNTIME_BIN = join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
/** VS Code target → onnxruntime-node's folder; the same table as package-vsix.mjs. */
const TARGETS: Record<string, string> = {
  'linux-x64': 'linux/x64',
  'linux-arm64': 'linux/arm64',
  'darwin-arm64': 'darwin/arm64',
  'darwin-x64': 'darwin/x64',
  'win32-x64': 'win32/x64',
  'win32-arm64': 'win32/arm64',
};

/** A zip's entries, from its central directory: each name, and its content on demand. */
function zipEntries(path: string): { name: string; read: () => string }[] {
  const zip = readFileSync(path);
  let end = zip.length - 22;
  while (end >= 0 && zip.readUInt32LE(end) !== 0x06054b50) end--;
  assert.ok(end >= 0, `${path} is not a zip file`);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: { name: string; read: () => string }[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50, 'central directory entry');
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30);
    const comment = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const read = () => {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + size);
      return (method === 8 ? inflateRawSync(data) : data).toString('utf8');
    };
    entries.push({ name: zip.toString('utf8', at + 46, at + 46 + nameLength), read });
    at += 46 + nameLength + extra + comment;
  }
  return entries;
}

const NATIVE = /\.(node|so(\.\d+)*|dylib|dll)$/;
let out: string;
let run: ReturnType<typeof spawnSync>;

before(() => {
  out = mkdtempSync(join(tmpdir(), 'thinkscope-packages-'));
  run = spawnSync(process.execPath, [join(root, 'package-vsix.mjs'), `--out=${out}`], { cwd: root, encoding: 'utf8', timeout: 900_000 });
});
after(() => rmSync(out, { recursive: true, force: true }));

for (const [target, folder] of Object.entries(TARGETS)) {
  const shipped = existsSync(join(ONNXRUNTIME_BIN, folder));
  test(`${target}: ${shipped ? 'carries exactly its own onnxruntime binaries' : 'is not made (onnxruntime-node has no binary for it)'}`, () => {
    assert.equal(run.status, 0, `npm run package failed:\n${run.stderr}`);
    const vsix = join(out, `thinkscope-${version}-${target}.vsix`);
    if (!shipped) {
      assert.equal(existsSync(vsix), false);
      assert.match(String(run.stderr), new RegExp(`not packaged: .*${target}`));
      return;
    }
    const entries = zipEntries(vsix);
    const native = entries.map((e) => e.name).filter((name) => NATIVE.test(name)).sort();
    const expected = readdirSync(join(ONNXRUNTIME_BIN, folder))
      .filter((name) => NATIVE.test(name))
      .map((name) => `extension/node_modules/onnxruntime-node/bin/napi-v6/${folder}/${name}`)
      .sort();
    console.log(`${target}: ${native.join(', ')}`);
    assert.deepEqual(native, expected);
    // The manifest names the platform, so the Marketplace and VS Code install the right package.
    const manifest = entries.find((e) => e.name === 'extension.vsixmanifest');
    assert.ok(manifest, 'no extension.vsixmanifest');
    assert.match(manifest.read(), new RegExp(`TargetPlatform="${target}"`));
    const names = entries.map((e) => e.name);
    assert.ok(names.includes('extension/dist/extension.js') && names.includes('extension/package.json'));
  });
}
