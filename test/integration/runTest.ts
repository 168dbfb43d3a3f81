// Runs the integration suite in a real VS Code: @vscode/test-electron's runTests() with
// code-server standing in for the VS Code binary (see test/vscode/run-in-code-server.mjs).
import { runTests } from '@vscode/test-electron';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
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
  // The long natural-language trace the random model analyses slowly enough for the crash test to kill it.
  cpSync(join(repoRoot, 'test', 'fixtures', 'sample-trace.md'), join(workspace, 'sample-trace.md'));
  // The bundled trained reasoner is the suites' model: its true steps score high and its checks low, so
  // the suites assert what the scores mean. A tiny random model stays for the crash test only (see recovery.test.ts).
  const model = join(repoRoot, 'media', 'models', 'thinkscope-reasoner');
  const fixtures = mkdtempSync(join(tmpdir(), 'thinkscope-fixtures-'));
  const randomModel = join(fixtures, 'tiny-qwen2');
  const direction = join(fixtures, 'seal-direction');
  const calibration = join(fixtures, 'calibration.jsonl');
  const trueThinking = join(fixtures, 'truethinking-direction');
  try {
    cli('make-model', '--preset', 'tiny', '--out', randomModel);
    // Directions from the reasoner's own calibration traces, as the demo makes them: SEAL at layer 2
    // (its model card: at the default layer 3 the opening step reads as reflection), TrueThinking from the
    // steps its documented guarantees put on each side (true steps ≥ 0.9, checks ≤ 0.05).
    const traces = readdirSync(join(samples, 'reasoner-calibration')).filter((name) => name.endsWith('.md')).map((name) => join(samples, 'reasoner-calibration', name));
    cli('direction', 'seal', ...traces, '--model', model, '--layer', '2', '--out', direction);
    cli('analyze', ...traces, '--model', model, '--tts', '--segment', 'paragraph', '--out', calibration);
    cli('direction', 'truethinking', calibration, '--model', model, '--out', trueThinking, '--high', '0.9', '--low', '0.05');
    await runTests({
      vscodeExecutablePath: join(repoRoot, 'test', 'vscode', 'code-server-shim'),
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: join(__dirname, 'suite', 'index.js'),
      launchArgs: [workspace],
      reuseMachineInstall: true, // the shim makes a fresh user-data and extensions folder per run
      extensionTestsEnv: { THINKSCOPE_TEST_MODEL: model, THINKSCOPE_TEST_RANDOM_MODEL: randomModel, THINKSCOPE_TEST_DIRECTION: direction, THINKSCOPE_TEST_TRUETHINKING: trueThinking },
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
