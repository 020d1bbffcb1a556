import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema, ROLES } from '../src/config/schema.js';

interface ComposeService {
  image?: string;
  build?: unknown;
  ports?: string[];
  expose?: string[];
  healthcheck?: { test?: string[] };
  environment?: Record<string, string>;
}

const compose = parse(readFileSync(`${inject('rootDir')}/docker-compose.yml`, 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const known = new Set(Object.keys(configSchema.shape));

describe('docker-compose.yml', () => {
  it('runs the official images for Kafka, ClickHouse, Redis and Grafana on their usual ports', () => {
    const s = compose.services;
    expect(s.kafka?.image).toMatch(/^apache\/kafka:4\./);
    expect(s.clickhouse?.image).toMatch(/^clickhouse\/clickhouse-server:/);
    expect(s.redis?.image).toMatch(/^redis:/);
    expect(s.grafana?.image).toMatch(/^grafana\/grafana:/);
    expect(s.kafka?.ports).toContain('9092:9092');
    expect(s.clickhouse?.ports).toContain('8123:8123');
  });

  it('builds every burnrate role from the Dockerfile with environment names the config schema knows', () => {
    const burnrate = Object.entries(compose.services).filter(([, svc]) => svc.build !== undefined);
    const roles = new Set(burnrate.flatMap(([, svc]) => (svc.environment?.BURNRATE_ROLES ?? '').split(',')));
    for (const role of ROLES.filter((r) => r !== 'clickhouse')) expect(roles).toContain(role);
    for (const [name, svc] of burnrate) {
      const unknown = Object.keys(svc.environment ?? {}).filter((k) => !known.has(k));
      expect(unknown, `service ${name}`).toEqual([]);
      // And the values parse: a typo in a value would fail at boot in production.
      expect(() => configSchema.parse(svc.environment), `service ${name}`).not.toThrow();
      // Metrics and health on the container network, and the container's health from /healthz.
      expect(svc.expose, `service ${name}`).toContain(
        String(configSchema.parse(svc.environment).METRICS_PORT),
      );
      expect(svc.environment?.METRICS_HOST, `service ${name}`).toBe('0.0.0.0');
      expect(svc.healthcheck?.test?.join(' '), `service ${name}`).toContain('/healthz');
    }
  });
});
