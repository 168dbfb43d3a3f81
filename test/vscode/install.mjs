// Installs what the integration and end-to-end tests need to run a real VS Code, and nothing twice:
//   - Debian packages: chromium (driven by playwright-core), ripgrep and libkrb5-dev plus a C++
//     toolchain (code-server's native modules build from source here);
//   - code-server (VS Code server + web workbench) from npm into .vscode-test/code-server/.
// test/vscode/README.md says why each workaround exists. Run as root on Debian/Ubuntu.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CODE_SERVER_VERSION, codeServerBin, codeServerDir, isolatedEnv, vscodeTestDir } from './paths.mjs';

// @vscode/ripgrep as pinned by code-server 4.100.3's VS Code (lib/vscode/npm-shrinkwrap.json and
// the package's lib/postinstall.js). Its postinstall downloads rg from api.github.com unless the
// archive is already in its cache, so we seed the cache with Debian's rg.
const RIPGREP_PACKAGE_VERSION = '1.15.11';
const RIPGREP_ARCHIVE = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';
const installedMarker = join(codeServerDir, '.installed');

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
  }
}

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

function hasDebianPackage(name) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

function ensureDebianPackages() {
  const wanted = [
    ['chromium', () => existsSync('/usr/bin/chromium')],
    ['ripgrep', () => hasCommand('rg')],
    ['libkrb5-dev', () => hasDebianPackage('libkrb5-dev')],
    ['g++', () => hasCommand('g++')],
    ['make', () => hasCommand('make')],
    ['python3', () => hasCommand('python3')],
  ];
  const missing = wanted.filter(([, present]) => !present()).map(([name]) => name);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages: ${missing.join(' ')}. Install them (sudo apt-get install -y ${missing.join(' ')}) or run this script as root.`);
  }
  console.log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update'], { env });
  run('apt-get', ['install', '-y', ...missing], { env });
}

function seedRipgrepCache(env) {
  const cacheDir = join(env.TMPDIR, `vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}`);
  if (existsSync(join(cacheDir, RIPGREP_ARCHIVE))) return;
  const stage = join(vscodeTestDir, 'ripgrep-stage');
  mkdirSync(stage, { recursive: true });
  mkdirSync(cacheDir, { recursive: true });
  const rg = spawnSync('sh', ['-c', 'command -v rg'], { encoding: 'utf8' }).stdout.trim();
  copyFileSync(rg, join(stage, 'rg'));
  run('tar', ['czf', join(cacheDir, RIPGREP_ARCHIVE), '-C', stage, 'rg']);
}

function ensureCodeServer() {
  if (process.env.CODE_SERVER) return; // an explicitly chosen code-server is the caller's business
  if (existsSync(installedMarker) && readFileSync(installedMarker, 'utf8').trim() === CODE_SERVER_VERSION && existsSync(codeServerBin)) return;
  console.log(`installing code-server ${CODE_SERVER_VERSION} into ${codeServerDir} (about a minute)`);
  const env = isolatedEnv();
  seedRipgrepCache(env);
  mkdirSync(codeServerDir, { recursive: true });
  writeFileSync(join(codeServerDir, 'package.json'), '{ "name": "thinkscope-test-code-server", "private": true }\n');
  // Native modules (argon2, kerberos, node-pty) compile from source; use the running Node's own
  // headers when it has them rather than downloading them.
  const nodePrefix = dirname(dirname(process.execPath));
  const nodeHeaders = existsSync(join(nodePrefix, 'include', 'node', 'node.h')) ? { npm_config_nodedir: nodePrefix } : {};
  run('npm', ['install', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: codeServerDir,
    // unsafe_perm: code-server's postinstall refuses to run as root without it.
    // yes: node-pty's build runs `npx node-gyp`, which a `yes=false` npmrc would cancel.
    env: { ...env, ...nodeHeaders, npm_config_unsafe_perm: 'true', npm_config_yes: 'true' },
  });
  const version = spawnSync(codeServerBin, ['--version'], { env, encoding: 'utf8' });
  const versionLine = version.stdout.split('\n').find((line) => line.startsWith(CODE_SERVER_VERSION));
  if (version.status !== 0 || !versionLine) {
    throw new Error(`code-server did not install correctly: \`${codeServerBin} --version\` printed ${JSON.stringify(version.stdout + version.stderr)}`);
  }
  writeFileSync(installedMarker, `${CODE_SERVER_VERSION}\n`);
  console.log(`code-server ready: ${versionLine}`);
}

try {
  ensureDebianPackages();
  ensureCodeServer();
} catch (error) {
  console.error(`test/vscode/install.mjs: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
