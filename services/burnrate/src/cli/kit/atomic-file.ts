import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ValidationError } from '@burnrate/core';

/** `out`'s stat, or undefined when it cannot be read (missing; the temp file's creation says why). */
function statOrUndefined(out: string): Stats | undefined {
  try {
    return statSync(out);
  } catch {
    return undefined;
  }
}

/**
 * A new, empty temporary file next to `out` (same directory, so the final rename is atomic), with
 * an unguessable name created exclusively (`wx`: never an existing file, never through a symlink).
 * A directory that cannot take it is refused as a ValidationError on `flag`, before any work.
 */
export function createTemp(out: string, flag = '--out'): string {
  if (statOrUndefined(out)?.isDirectory() || out.endsWith('/')) {
    throw new ValidationError(
      flag,
      `${flag} ${out} is a directory: give a file name (e.g. ${join(out, 'report.out')}).`,
      'invalid_argument',
    );
  }
  const path = join(dirname(out), `.${basename(out)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    closeSync(openSync(path, 'wx'));
    return path;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ValidationError(
      flag,
      `${flag} ${out} cannot be written (${reason}): give a file in an existing, writable directory.`,
      'invalid_argument',
    );
  }
}

/**
 * Runs `write(temp)` on a fresh temporary file and renames it over `out` only when it succeeded;
 * on any failure the temporary file is removed and `out` is left as it was.
 */
export async function writeAtomically(
  out: string,
  write: (temp: string) => unknown | Promise<unknown>,
  flag = '--out',
): Promise<void> {
  const temp = createTemp(out, flag);
  let done = false;
  try {
    await write(temp);
    const fd = openSync(temp, 'r+');
    try {
      fsyncSync(fd); // the bytes reach the disk before the name points at them
    } finally {
      closeSync(fd);
    }
    // An existing file keeps its mode; a new one gets 0644.
    const existing = statOrUndefined(out);
    chmodSync(temp, existing ? existing.mode & 0o7777 : 0o644);
    try {
      renameSync(temp, out);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new ValidationError(
        flag,
        `${flag} ${out} cannot be written (${reason}): give a file in an existing, writable directory.`,
        'invalid_argument',
      );
    }
    done = true;
  } finally {
    if (!done) rmSync(temp, { force: true });
  }
}

/** `text` into `out`, atomically (see writeAtomically). */
export function writeFileAtomically(out: string, text: string, flag = '--out'): Promise<void> {
  return writeAtomically(out, (temp) => writeFileSync(temp, text), flag);
}
