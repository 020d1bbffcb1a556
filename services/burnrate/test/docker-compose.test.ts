import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema, ROLES } from '../src/config/schema.js';
import { assertOverviewExposure, OVERVIEW_TOKEN_PLACEHOLDER } from '../src/roles/overview/server.js';

interface ComposeService {
  image?: string;
  build?: unknown;
  ports?: string[];
  expose?: string[];
  healthcheck?: { test?: string[] };
  environment?: Record<string, string>;
  volumes?: string[];
}

const compose = parse(readFileSync(`${inject('rootDir')}/docker-compose.yml`, 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const known = new Set(Object.keys(configSchema.shape));
const root = inject('rootDir');

describe('docker-compose.yml', () => {
  it('runs the official images for Kafka, ClickHouse, Redis and Grafana on their usual ports', () => {
    const s = compose.services;
    expect(s.kafka?.image).toMatch(/^apache\/kafka:4\./);
    expect(s.clickhouse?.image).toMatch(/^clickhouse\/clickhouse-server:/);
    expect(s.redis?.image).toMatch(/^redis:/);
    expect(s.grafana?.image).toMatch(/^grafana\/grafana:/);
    expect(s.kafka?.ports).toContain('127.0.0.1:9092:9092');
    expect(s.clickhouse?.ports).toContain('127.0.0.1:8123:8123');
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

  it('serves the overview page on 8788 to the host', () => {
    const overview = compose.services.overview;
    expect(overview?.environment?.BURNRATE_ROLES).toBe('overview');
    expect(overview?.environment?.OVERVIEW_HOST).toBe('0.0.0.0');
    // Beyond loopback it refuses to start without a real token: compose falls back to the
    // placeholder, which the role refuses (so a forgotten OVERVIEW_TOKEN stops the overview only).
    const fallback = /^\$\{OVERVIEW_TOKEN:-(.+)\}$/.exec(String(overview?.environment?.OVERVIEW_TOKEN))?.[1];
    expect(fallback).toBe(OVERVIEW_TOKEN_PLACEHOLDER);
    expect(() => assertOverviewExposure({ host: '0.0.0.0', token: fallback })).toThrow(
      /openssl rand -hex 32/,
    );
    expect(overview?.ports).toEqual(['127.0.0.1:8788:8788']);
  });

  it('publishes ports without real authentication on the host loopback only', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const port of svc.ports ?? []) {
        if (name === 'api') continue; // API keys
        expect(port, `service ${name}`).toMatch(/^127\.0\.0\.1:/);
      }
    }
  });

  it('provisions Grafana with the ClickHouse and Prometheus data sources and every dashboard file', () => {
    const grafana = compose.services.grafana!;
    expect(grafana.environment?.GF_INSTALL_PLUGINS).toContain('grafana-clickhouse-datasource');
    const mounts = new Map((grafana.volumes ?? []).map((v) => [v.split(':')[1], v.split(':')[0]]));
    expect(mounts.get('/etc/grafana/provisioning')).toBe('./infra/grafana/provisioning');
    const providers = parse(
      readFileSync(`${root}/infra/grafana/provisioning/dashboards/burnrate.yaml`, 'utf8'),
    ) as { providers: Array<{ options: { path: string } }> };
    const path = providers.providers[0]!.options.path;
    expect(mounts.get(path)).toBe('./infra/grafana/dashboards');
    const home = grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
    expect(existsSync(`${root}/infra/grafana/dashboards/${home.slice(path.length + 1)}`)).toBe(true);
    const sources = parse(
      readFileSync(`${root}/infra/grafana/provisioning/datasources/clickhouse.yaml`, 'utf8'),
    ) as {
      datasources: Array<{ uid: string; type: string; url?: string; jsonData?: Record<string, unknown> }>;
    };
    const byUid = new Map(sources.datasources.map((d) => [d.uid, d]));
    expect(byUid.get('burnrate-clickhouse')?.jsonData).toMatchObject({
      host: 'clickhouse',
      username: 'analyst',
    });
    expect(byUid.get('burnrate-prometheus')?.url).toBe('http://prometheus:9090');
    // Every data source a dashboard panel names is provisioned.
    for (const file of readdirSync(`${root}/infra/grafana/dashboards`)) {
      const text = readFileSync(`${root}/infra/grafana/dashboards/${file}`, 'utf8');
      for (const [, uid] of text.matchAll(/"uid": "(burnrate-[a-z]+)"/g)) {
        if (uid !== JSON.parse(text).uid) expect(byUid.has(uid!), `${file}: ${uid}`).toBe(true);
      }
    }
  });

  it('scrapes the metrics port of every burnrate service with Prometheus', () => {
    const prometheus = compose.services.prometheus!;
    expect(prometheus.image).toMatch(/^prom\/prometheus:/);
    expect(prometheus.volumes).toContain(
      './infra/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
    );
    const config = parse(readFileSync(`${root}/infra/prometheus/prometheus.yml`, 'utf8')) as {
      scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>;
    };
    const targets = config.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    const services = Object.entries(compose.services)
      .filter(([, svc]) => svc.build !== undefined && !svc.environment?.BURNRATE_ROLES?.includes('demo'))
      .map(([name]) => `${name}:9464`);
    expect(new Set(targets)).toEqual(new Set(services));
  });
});
