import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { type AlertingConfig, BUILT_IN_ALERTING, ConfigError, parseAlertingConfig } from '@burnrate/core';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import type { Component } from '../runtime/lifecycle.js';

/**
 * Reads the alerting file (BURNRATE_RULES_FILE, YAML or JSON) and follows it: a changed file is
 * validated and takes effect without a restart; an invalid one is refused with a sentence naming the
 * rule and field, and the rules in force stay. `${NAME}` in a string is replaced by the environment
 * variable NAME, so secrets (webhook secrets, PagerDuty routing keys) need not be in the file.
 */
export function createAlertingSource(
  o: { file: string | undefined; pollMs?: number },
  deps: { env: Readonly<Record<string, string | undefined>>; logger: Logger },
): Component & { current(): AlertingConfig; reload(): boolean } {
  const log = deps.logger.child({ component: 'alerting-file' });
  let config: AlertingConfig = BUILT_IN_ALERTING;
  let digest = '';
  let poll: NodeJS.Timeout | undefined;

  /** What the file looks like on disk (a replaced file has a new inode, a rewritten one new times). */
  function stamp(): string {
    try {
      const s = statSync(o.file!, { throwIfNoEntry: false });
      return s ? `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}` : 'absent';
    } catch (error) {
      return `error:${(error as Error).message}`;
    }
  }

  function read(): { config: AlertingConfig; digest: string } {
    const file = o.file!;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(
        'BURNRATE_RULES_FILE',
        `BURNRATE_RULES_FILE names ${file}, which cannot be read: ${(error as Error).message}.`,
      );
    }
    let value: unknown;
    try {
      value = parseYaml(text);
    } catch (error) {
      throw new ConfigError(
        'BURNRATE_RULES_FILE',
        `BURNRATE_RULES_FILE (${file}) is not valid YAML or JSON: ${(error as Error).message}`,
      );
    }
    return {
      config: parseAlertingConfig(interpolate(value, deps.env, file), file),
      digest: createHash('sha256').update(text).digest('hex').slice(0, 12),
    };
  }

  function reload(): boolean {
    if (!o.file) return false;
    try {
      const next = read();
      if (next.digest === digest) return false;
      config = next.config;
      digest = next.digest;
      log.info(
        {
          file: o.file,
          version: digest,
          destinations: config.destinations.map((d) => `${d.kind}:${d.name}`),
        },
        'alerting rules loaded',
      );
      return true;
    } catch (error) {
      log.error(
        { err: error, file: o.file, inForce: digest || 'built-in defaults' },
        `${(error as Error).message} The rules in force stay.`,
      );
      return false;
    }
  }

  return {
    name: 'alerting-file',
    current: () => config,
    reload,
    async start() {
      if (!o.file) {
        log.info('no BURNRATE_RULES_FILE: built-in rule defaults and no destinations');
        return;
      }
      // Stat BEFORE reading, synchronously: a change made at any moment after it is seen by the next
      // poll (fs.watchFile takes its first stat later, on the threadpool, and missed such a change).
      let seen = stamp();
      // At boot an invalid file is fatal (the error names the rule and field); later it is not.
      const first = read();
      config = first.config;
      digest = first.digest;
      log.info({ file: o.file, version: digest }, 'alerting rules loaded');
      // Polling, not fs.watch: editors and config-map updates replace the file rather than write it.
      poll = setInterval(() => {
        const now = stamp();
        if (now === seen) return;
        seen = now;
        reload();
      }, o.pollMs ?? 1_000);
      poll.unref();
    },
    async stop() {
      clearInterval(poll);
      poll = undefined;
    },
  };
}

/** Replaces `${NAME}` in every string with the environment variable NAME; a missing one is an error. */
function interpolate(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  file: string,
): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = env[name];
      if (v === undefined) {
        throw new ConfigError(
          'BURNRATE_RULES_FILE',
          `BURNRATE_RULES_FILE (${file}) uses \${${name}}, but the environment variable ${name} is not set.`,
        );
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env, file));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, file)]));
  }
  return value;
}
