// Runs the integration suite in a real VS Code: @vscode/test-electron's runTests() with
// code-server standing in for the VS Code binary (see test/vscode/run-in-code-server.mjs).
import { runTests } from '@vscode/test-electron';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '..', '..', '..');
const samples = join(repoRoot, 'media', 'samples');

/** Runs the built CLI (`npm run build` comes first), failing loudly with its output. */
function cli(...args: string[]): void {
  const run = spawnSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`thinkscope ${args.join(' ')} failed (${run.status}):\n${run.stderr}`);
}

async function main(): Promise<void> {
  // A throwaway workspace, so tests may create and edit files freely.
  const workspace = mkdtempSync(join(tmpdir(), 'thinkscope-integration-'));
  if (existsSync(samples)) cpSync(samples, workspace, { recursive: true });
  // A tiny random model and a SEAL direction made on it: what Select Model and Steer Reply use.
  const fixtures = mkdtempSync(join(tmpdir(), 'thinkscope-fixtures-'));
  const model = join(fixtures, 'tiny-qwen2');
  const direction = join(fixtures, 'seal-direction');
  try {
    cli('make-model', '--preset', 'tiny', '--out', model);
    cli('direction', 'seal', join(samples, 'sample-trace.md'), '--model', model, '--out', direction);
    await runTests({
      vscodeExecutablePath: join(repoRoot, 'test', 'vscode', 'code-server-shim'),
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: join(__dirname, 'suite', 'index.js'),
      launchArgs: [workspace],
      reuseMachineInstall: true, // the shim makes a fresh user-data and extensions folder per run
      extensionTestsEnv: { THINKSCOPE_TEST_MODEL: model, THINKSCOPE_TEST_DIRECTION: direction },
    });
  } finally {
    rmSync(workspace, { recursive: true, force: true });
    rmSync(fixtures, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
