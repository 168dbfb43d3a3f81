// `npm run demo -- --vscode`: opens the annotated demo trace in a real VS Code (code-server) served on
// this machine, with ThinkScope loaded from this folder and the demo model selected — for anyone without
// VS Code at hand. Without --vscode it only says how.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRunDir, startCodeServer } from './code-server.mjs';
import { repoRoot } from './paths.mjs';

const demoDir = join(repoRoot, 'demo');
if (!process.argv.includes('--vscode')) {
  console.log('\nTo look at it in VS Code in your browser: npm run demo -- --vscode');
  process.exit(0);
}
if (!existsSync(join(demoDir, 'reasoner-trace.thinktrace.json'))) {
  console.error('demo/ has no results yet: run `npm run demo` first');
  process.exit(1);
}
const install = spawnSync(process.execPath, [join(repoRoot, 'test', 'vscode', 'install.mjs')], { stdio: 'inherit' });
if (install.status !== 0) process.exit(install.status ?? 1);

const runDir = makeRunDir('demo');
const userDataDir = join(runDir, 'user-data');
mkdirSync(join(userDataDir, 'User'), { recursive: true });
writeFileSync(
  join(userDataDir, 'User', 'settings.json'),
  JSON.stringify(
    {
      'thinkscope.modelPath': join(repoRoot, 'media', 'models', 'thinkscope-reasoner'),
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': false,
      'git.openRepositoryInParentFolders': 'never',
    },
    null,
    2,
  ),
);
const server = await startCodeServer({ runDir, userDataDir });
const payload = encodeURIComponent(JSON.stringify([['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${server.port}${repoRoot}`]]));
console.log(`\nThinkScope in VS Code: ${server.url}/?folder=${encodeURIComponent(demoDir)}&payload=${payload}`);
console.log('Open that address in a browser on this machine, then click reasoner-trace.thinktrace.json in the Explorer for the');
console.log('annotated trace (reasoner-chat.thinktrace.json for persona drift). Ctrl-C stops the server.');
process.on('SIGINT', () => {
  server.stop();
  process.exit(0);
});
await new Promise(() => {});
