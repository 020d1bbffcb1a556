import { ConfigError } from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';

describe('configuration', () => {
  it('has local defaults', () => {
    const c = loadConfig({});
    expect(c.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(c.BURNRATE_ROLES).toEqual([
      'clickhouse',
      'enricher',
      'ledger',
      'aggregator',
      'notifier',
      'api',
      'overview',
      'demo',
    ]);
    expect(c.CLICKHOUSE_DATABASE).toBe('burnrate');
  });

  it('fails with a sentence naming the variable and the bad value', () => {
    const fail = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };
    const partitions = fail({ KAFKA_TOPIC_PARTITIONS: 'many' });
    expect(partitions).toBeInstanceOf(ConfigError);
    expect(partitions.field).toBe('KAFKA_TOPIC_PARTITIONS');
    expect(partitions.message).toMatch(/^KAFKA_TOPIC_PARTITIONS is invalid: .*\(got "many"\)\.$/);
    expect(fail({ BURNRATE_ROLES: 'enricher,billing' }).message).toContain('unknown role "billing"');
    expect(fail({ REDIS_URL: 'not a url' }).field).toBe('REDIS_URL');
    expect(fail({ LEDGER_DEDUP: 'maybe' }).field).toBe('LEDGER_DEDUP');
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ CLICKHOUSE_URL: '' }).CLICKHOUSE_URL).toBeUndefined();
  });
});
