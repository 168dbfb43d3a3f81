// The folder an engine served over the network may touch: every path a client names (model folders,
// direction folders, trace files, outputs) must lie inside it once symbolic links are resolved, so a
// client can read and write only what the person who started the engine chose to share.

import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

export class ServedRoot {
  /** The root with its symbolic links resolved. */
  readonly dir: string;

  constructor(dir: string) {
    this.dir = realpathSync(resolve(dir));
  }

  /** Why a client may not use `path`, or null when it lies inside the root. */
  refusal(path: string): string | null {
    if (path.includes('\0')) return 'a path cannot contain a NUL character';
    if (!isAbsolute(path)) return `${path}: give an absolute path (the engine's working folder means nothing to a client)`;
    const real = resolveExisting(path);
    const inside = relative(this.dir, real);
    if (inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside)) return null;
    return `${path} is outside the folder this engine serves (${this.dir}); start the engine with --root to serve another folder`;
  }
}

/** The real path of `path`: its longest existing ancestor's links resolved, the rest appended. */
function resolveExisting(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    const parent = dirname(absolute);
    return parent === absolute ? absolute : join(resolveExisting(parent), basename(absolute));
  }
}
