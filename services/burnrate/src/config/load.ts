import { ConfigError } from '@burnrate/core';
import { type Config, configSchema } from './schema.js';

/**
 * Parses the environment once, at boot. The first problem becomes a ConfigError whose message names
 * the variable, e.g. `KAFKA_TOPIC_PARTITIONS must be …: got "abc"`.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const relevant: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') relevant[key] = value;
  }
  const result = configSchema.safeParse(relevant);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = String(issue.path[0] ?? 'configuration');
  const got = relevant[name];
  throw new ConfigError(
    name,
    `${name} is invalid: ${issue.message}${got === undefined ? '' : ` (got "${got}")`}.`,
  );
}

export type { Config };
