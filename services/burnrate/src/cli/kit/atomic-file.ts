import { randomBytes } from 'node:crypto';
import { closeSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ValidationError } from '@burnrate/core';

/**
 * A new, empty temporary file next to `out` (same directory, so the final rename is atomic), with
 * an unguessable name created exclusively (`wx`: never an existing file, never through a symlink).
 * A directory that cannot take it is refused as a ValidationError on `flag`, before any work.
 */
export function createTemp(out: string, flag = '--out'): string {
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
    renameSync(temp, out);
    done = true;
  } finally {
    if (!done) rmSync(temp, { force: true });
  }
}

/** `text` into `out`, atomically (see writeAtomically). */
export function writeFileAtomically(out: string, text: string, flag = '--out'): Promise<void> {
  return writeAtomically(out, (temp) => writeFileSync(temp, text), flag);
}
