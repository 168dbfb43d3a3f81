// Every CLI command, in the order `thinkscope --help` lists them.

import type { Command } from '../command';
import { directionCommand } from './direction';
import { exportCommand } from './export';
import { generateCommand } from './generate';
import { makeModelCommand } from './make-model';
import { runCommandSpec } from './run';

export const COMMANDS: Command[] = [makeModelCommand, runCommandSpec, generateCommand, directionCommand, exportCommand];
