// `npm run package`: one .vsix per platform VS Code users run, each carrying onnxruntime's binaries
// for its own platform only (onnxruntime-node ships them all). The bundles are built once; each
// package is made from .vscodeignore with its own binary folder let through.
//
//   node package-vsix.mjs [--out=DIR] [--target=linux-x64 ...]
import { pack } from '@vscode/vsce/out/package.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = import.meta.dirname;
/** VS Code's target name → onnxruntime-node's binary folder (bin/napi-v6/<os>/<arch>). */
export const TARGETS = {
  'linux-x64': 'linux/x64',
  'linux-arm64': 'linux/arm64',
  'darwin-arm64': 'darwin/arm64',
  'darwin-x64': 'darwin/x64',
  'win32-x64': 'win32/x64',
  'win32-arm64': 'win32/arm64',
};
const BINARY_LINE = '!node_modules/onnxruntime-node/bin/napi-v6/linux/x64/**';

function parse(argv) {
  const options = { out: root, targets: [] };
  for (const arg of argv) {
    const [name, value] = arg.split(/=(.*)/s);
    if (name === '--out' && value) options.out = resolve(value);
    else if (name === '--target' && value in TARGETS) options.targets.push(value);
    else throw new Error(`unknown argument ${arg}; usage: node package-vsix.mjs [--out=DIR] [--target=${Object.keys(TARGETS).join('|')}]...`);
  }
  if (options.targets.length === 0) options.targets = Object.keys(TARGETS);
  return options;
}

async function main() {
  const options = parse(process.argv.slice(2));
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const ignore = readFileSync(join(root, '.vscodeignore'), 'utf8');
  if (!ignore.includes(BINARY_LINE)) throw new Error(`.vscodeignore must let through ${BINARY_LINE}: it is the line each package replaces`);
  execFileSync(process.execPath, [join(root, 'esbuild.mjs'), '--production'], { cwd: root, stdio: 'inherit' });
  mkdirSync(options.out, { recursive: true });
  const skipped = [];
  for (const target of options.targets) {
    const binaries = `node_modules/onnxruntime-node/bin/napi-v6/${TARGETS[target]}`;
    if (!existsSync(join(root, binaries))) {
      // onnxruntime-node 1.30 publishes no Intel macOS binary: a package without one could not run.
      skipped.push(`${target} (onnxruntime-node has no ${TARGETS[target]} binary)`);
      continue;
    }
    const ignoreFile = join(options.out, `.vscodeignore-${target}`);
    writeFileSync(ignoreFile, ignore.replace(BINARY_LINE, `!${binaries}/**`));
    const packagePath = join(options.out, `thinkscope-${version}-${target}.vsix`);
    try {
      await pack({ cwd: root, target, ignoreFile, packagePath, allowMissingRepository: true, skipLicense: true, rewriteRelativeLinks: false });
    } finally {
      rmSync(ignoreFile, { force: true });
    }
    console.log(`packaged ${packagePath}`);
  }
  if (skipped.length > 0) console.warn(`not packaged: ${skipped.join('; ')}`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((error) => {
    console.error(`package: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  });
}
