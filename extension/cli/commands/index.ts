// Every CLI command, in the order `thinkscope --help` lists them.

import type { Command } from '../command';
import { analyzeCommand } from './analyze';
import { demoCommand } from './demo';
import { directionCommand } from './direction';
import { exportCommand } from './export';
import { generateCommand } from './generate';
import { makeModelCommand } from './make-model';
import { pruneCommand } from './prune';
import { whatifCommand } from './whatif';
import { runCommandSpec } from './run';
import { serveCommand } from './serve';
import { steerStepCommand } from './steer-step';

export const COMMANDS: Command[] = [demoCommand, analyzeCommand, generateCommand, steerStepCommand, whatifCommand, pruneCommand, directionCommand, exportCommand, makeModelCommand, runCommandSpec, serveCommand];
