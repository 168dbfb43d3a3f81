// Runs the integration suite in a real VS Code: @vscode/test-electron's runTests() with
// code-server standing in for the VS Code binary (see test/vscode/run-in-code-server.mjs).
import { runTests } from '@vscode/test-electron';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '..', '..', '..');
const samples = join(repoRoot, 'media', 'samples');

/** Runs the built CLI (`npm run build` comes first), failing loudly with its output. */
function cli(...args: string[]): void {
  const run = spawnSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`thinkscope ${args.join(' ')} failed (${run.status}):\n${run.stderr}`);
}

/**
 * TrueThinking thresholds that put half of the analysed steps on each side: a random model's scores
 * are all tiny, so the defaults (0.9 and 0.005) would leave the high side empty.
 */
function splittingThresholds(analysis: string): { high: string; low: string } {
  const scores = (JSON.parse(readFileSync(analysis, 'utf8')) as { steps: { tts: number | null }[] }).steps
    .flatMap((step) => (step.tts === null ? [] : [step.tts]))
    .sort((a, b) => a - b);
  if (scores.length < 4) throw new Error(`the sample has ${scores.length} scored steps; a TrueThinking direction needs at least 4`);
  const middle = scores.length >> 1;
  return { high: String(scores[middle]), low: String(scores[middle - 1]) };
}

async function main(): Promise<void> {
  // A throwaway workspace, so tests may create and edit files freely.
  const workspace = mkdtempSync(join(tmpdir(), 'thinkscope-integration-'));
  if (existsSync(samples)) cpSync(samples, workspace, { recursive: true });
  // A tiny random model and a SEAL direction made on it: what Select Model and Steer Reply use.
  const fixtures = mkdtempSync(join(tmpdir(), 'thinkscope-fixtures-'));
  const model = join(fixtures, 'tiny-qwen2');
  const direction = join(fixtures, 'seal-direction');
  const analysis = join(fixtures, 'sample-analysis.json');
  const trueThinking = join(fixtures, 'truethinking-direction');
  try {
    cli('make-model', '--preset', 'tiny', '--out', model);
    cli('direction', 'seal', join(samples, 'sample-trace.md'), '--model', model, '--out', direction);
    // A TrueThinking direction, for Steer this step: the sample's scored steps, split in half.
    cli('analyze', join(samples, 'sample-trace.md'), '--model', model, '--tts', '--out', analysis);
    const { high, low } = splittingThresholds(analysis);
    cli('direction', 'truethinking', analysis, '--model', model, '--out', trueThinking, '--high', high, '--low', low);
    await runTests({
      vscodeExecutablePath: join(repoRoot, 'test', 'vscode', 'code-server-shim'),
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: join(__dirname, 'suite', 'index.js'),
      launchArgs: [workspace],
      reuseMachineInstall: true, // the shim makes a fresh user-data and extensions folder per run
      extensionTestsEnv: { THINKSCOPE_TEST_MODEL: model, THINKSCOPE_TEST_DIRECTION: direction, THINKSCOPE_TEST_TRUETHINKING: trueThinking },
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
