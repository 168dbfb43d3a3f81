// Every CLI command, in the order `thinkscope --help` lists them.

import type { Command } from '../command';
import { exportCommand } from './export';
import { makeModelCommand } from './make-model';
import { runCommandSpec } from './run';

export const COMMANDS: Command[] = [makeModelCommand, runCommandSpec, exportCommand];
