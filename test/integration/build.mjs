// Bundles the integration tests for the extension host: the runTests() launcher and one file per
// suite module, into out/test/integration/. `vscode` comes from the host; mocha and
// @vscode/test-electron stay in node_modules so the suite and its test files share one mocha.
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';

// Built afresh: the runner loads every suite file it finds there, so a renamed suite must not linger.
rmSync('out/test/integration', { recursive: true, force: true });
const suiteFiles = readdirSync('test/integration/suite').filter((name) => name.endsWith('.ts')).map((name) => `test/integration/suite/${name}`);
await esbuild.build({
  entryPoints: ['test/integration/runTest.ts', ...suiteFiles],
  outbase: 'test/integration',
  outdir: 'out/test/integration',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  packages: 'external',
  external: ['vscode'],
  logLevel: 'warning',
});
