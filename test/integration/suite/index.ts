// The tests module VS Code loads into the extension host: runs every *.test.js next to it with mocha.
import Mocha from 'mocha';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 30_000 });
  // THINKSCOPE_TEST_SUITES=prune-folder,steps-view runs only the suites whose file names contain one of these.
  const only = process.env.THINKSCOPE_TEST_SUITES?.split(',').filter(Boolean) ?? [];
  const chosen = (name: string) => only.length === 0 || only.some((part) => name.includes(part));
  for (const file of readdirSync(__dirname).filter((name) => name.endsWith('.test.js') && chosen(name)).sort()) {
    mocha.addFile(join(__dirname, file));
  }
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} integration test(s) failed`)) : resolve()));
  });
}
