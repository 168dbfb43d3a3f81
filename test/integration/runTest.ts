// Runs the integration suite in a real VS Code: @vscode/test-electron's runTests() with
// code-server standing in for the VS Code binary (see test/vscode/run-in-code-server.mjs).
import { runTests } from '@vscode/test-electron';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '..', '..', '..');
const samples = join(repoRoot, 'media', 'samples');

async function main(): Promise<void> {
  // A throwaway workspace, so tests may create and edit files freely.
  const workspace = mkdtempSync(join(tmpdir(), 'thinkscope-integration-'));
  if (existsSync(samples)) cpSync(samples, workspace, { recursive: true });
  try {
    await runTests({
      vscodeExecutablePath: join(repoRoot, 'test', 'vscode', 'code-server-shim'),
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: join(__dirname, 'suite', 'index.js'),
      launchArgs: [workspace],
      reuseMachineInstall: true, // the shim makes a fresh user-data and extensions folder per run
    });
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
