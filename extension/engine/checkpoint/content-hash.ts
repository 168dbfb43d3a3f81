// The identity of a checkpoint's weights: a sha256 of every byte of every weight file. Reading a
// multi-gigabyte file costs seconds, so each file's hash is remembered beside the graph cache with
// the file's identity (device, inode, size, modification and change times, in nanoseconds): an
// unchanged file is not read again, and any write to it (which moves its change time) is hashed anew.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../atomic-write';
import { throwIfCancelled, type Progress } from '../runtime/progress';

interface Remembered {
  identity: string;
  sha256: string;
}

/** What changes whenever a file's bytes may have: device, inode, size, modification and change times. */
export async function fileIdentity(path: string): Promise<string> {
  const info = await stat(path, { bigint: true });
  return [info.dev, info.ino, info.size, info.mtimeNs, info.ctimeNs].join(':');
}

/** sha256 of a file's bytes; remembered in `memoDir` while the file stays the same. */
export async function fileContentHash(path: string, memoDir: string, progress: Progress = {}): Promise<string> {
  const memo = join(memoDir, `${createHash('sha256').update(await realpath(path)).digest('hex').slice(0, 32)}.json`);
  const identity = await fileIdentity(path);
  const remembered = await readFile(memo, 'utf8')
    .then((text) => JSON.parse(text) as Remembered)
    .catch(() => null);
  if (remembered?.identity === identity && typeof remembered.sha256 === 'string') return remembered.sha256;

  const total = Number((await stat(path)).size);
  const hash = createHash('sha256');
  let done = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 8 << 20 })) {
    throwIfCancelled(progress.signal);
    hash.update(chunk as Buffer);
    done += (chunk as Buffer).length;
    progress.report?.({ message: 'reading the weights to identify them (after a change only)', done, total });
  }
  const sha256 = hash.digest('hex');
  // A file written to while it was read has no single hash: it is hashed again next time.
  if ((await fileIdentity(path)) === identity) await writeFileAtomically(memo, JSON.stringify({ identity, sha256 } satisfies Remembered));
  return sha256;
}
