import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpoolError } from '../errors.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the spool directory for this process: two writers interleaving appends, or two drainers
 * sending the same records, would defeat the spool's ordering and bookkeeping. A lock left by a
 * dead process (kill -9) is taken over, which is exactly the restart case the spool exists for.
 * Returns the release function.
 */
export function lockSpoolDir(dir: string): () => void {
  const path = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new SpoolError(
          'spool_io',
          `Cannot create the spool lock ${path}: ${(error as Error).message}`,
          {
            retriable: false,
            cause: error,
          },
        );
      }
    }
    const holder = Number(readFileSync(path, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
      throw new SpoolError(
        'spool_locked',
        `The spool directory ${dir} is in use by process ${holder}${holder === process.pid ? ' (this one: another emitter)' : ''}; give each emitter its own spool.dir.`,
        { retriable: false },
      );
    }
    rmSync(path, { force: true });
  }
  throw new SpoolError('spool_locked', `Could not take the spool lock ${path}.`, { retriable: false });
}
