import { type AlertingConfig, BUILT_IN_ALERTING, ConfigError, parseAlertingConfig } from '@burnrate/core';
import type { Logger } from 'pino';
import { createFollowedFile } from '../runtime/followed-file.js';
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
  if (!o.file) {
    return {
      name: 'alerting-file',
      current: () => BUILT_IN_ALERTING,
      reload: () => false,
      async start() {
        log.info('no BURNRATE_RULES_FILE: built-in rule defaults and no destinations');
      },
      async stop() {},
    };
  }
  const followed = createFollowedFile(
    {
      setting: 'BURNRATE_RULES_FILE',
      label: 'alerting rules',
      initial: BUILT_IN_ALERTING,
      file: o.file,
      pollMs: o.pollMs ?? 1_000,
      parse: (value, file) => parseAlertingConfig(interpolate(value, deps.env, file), file),
      describe: (config) => ({ destinations: config.destinations.map((d) => `${d.kind}:${d.name}`) }),
    },
    { logger: log },
  );
  return { ...followed, name: 'alerting-file' };
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
