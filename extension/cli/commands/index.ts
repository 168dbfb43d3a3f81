// Every CLI command, in the order `thinkscope --help` lists them.

import type { Command } from '../command';
import { runCommandSpec } from './run';

export const COMMANDS: Command[] = [runCommandSpec];
