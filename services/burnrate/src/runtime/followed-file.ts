import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from '@burnrate/core';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import type { Component } from './lifecycle.js';

/**
 * A YAML or JSON settings file that takes effect without a restart: read and validated at start
 * (invalid = the process does not start, with the error naming the field), then polled; a changed
 * file that validates replaces the settings in force, an invalid one is logged and the settings in
 * force stay. Polling, not fs.watch: editors and config-map updates replace the file.
 */
export function createFollowedFile<T>(
  o: {
    /** The environment variable that names the file, for messages. */
    setting: string;
    file: string;
    pollMs: number;
    /** Validates the parsed document; throws ConfigError naming the field. */
    parse(value: unknown, file: string): T;
    /** What it holds, plural, for log lines: "<label> loaded", "The <label> in force stay". */
    label: string;
    /** What current() answers before start() has read the file. */
    initial?: T;
    /** Fields for the log line once a version is loaded. */
    describe?(value: T): Record<string, unknown>;
  },
  deps: { logger: Logger },
): Component & { current(): T; version(): string; reload(): boolean } {
  const log = deps.logger;
  let value: T | undefined = o.initial;
  let digest = '';
  let poll: NodeJS.Timeout | undefined;

  /** What the file looks like on disk (a replaced file has a new inode, a rewritten one new times). */
  function stamp(): string {
    try {
      const s = statSync(o.file, { throwIfNoEntry: false });
      return s ? `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}` : 'absent';
    } catch (error) {
      return `error:${(error as Error).message}`;
    }
  }

  function read(): { value: T; digest: string } {
    let text: string;
    try {
      text = readFileSync(o.file, 'utf8');
    } catch (error) {
      throw new ConfigError(
        o.setting,
        `${o.setting} names ${o.file}, which cannot be read: ${(error as Error).message}.`,
      );
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (error) {
      throw new ConfigError(
        o.setting,
        `${o.setting} (${o.file}) is not valid YAML or JSON: ${(error as Error).message}`,
      );
    }
    return {
      value: o.parse(parsed, o.file),
      digest: createHash('sha256').update(text).digest('hex').slice(0, 12),
    };
  }

  function loaded(next: { value: T; digest: string }): void {
    value = next.value;
    digest = next.digest;
    log.info({ file: o.file, version: digest, ...o.describe?.(next.value) }, `${o.label} loaded`);
  }

  function reload(): boolean {
    try {
      const next = read();
      if (next.digest === digest) return false;
      loaded(next);
      return true;
    } catch (error) {
      log.error(
        { err: error, file: o.file, inForce: digest },
        `${(error as Error).message} The ${o.label} in force stay.`,
      );
      return false;
    }
  }

  return {
    name: o.setting,
    current() {
      if (value === undefined) throw new Error(`${o.setting} was read before start()`);
      return value;
    },
    version: () => digest,
    reload,
    async start() {
      // Stat BEFORE reading, synchronously: a change made at any moment after it is seen by the next
      // poll (fs.watchFile takes its first stat later, on the threadpool, and missed such a change).
      let seen = stamp();
      loaded(read());
      poll = setInterval(() => {
        const now = stamp();
        if (now === seen) return;
        seen = now;
        reload();
      }, o.pollMs);
      poll.unref();
    },
    async stop() {
      clearInterval(poll);
      poll = undefined;
    },
  };
}
