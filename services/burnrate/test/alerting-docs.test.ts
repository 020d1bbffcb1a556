import { readFileSync } from 'node:fs';
import { parseAlertingConfig } from '@burnrate/core';
import { describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';

/** The alerting files users copy — the docker-compose one and the example in docs/alerts.md — are valid. */
const root = inject('rootDir');
const ENV: Record<string, string> = {
  ONCALL_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/x',
  PAGERDUTY_ROUTING_KEY: 'R0UT1NGKEY',
};
const fill = (text: string) => text.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => ENV[name] ?? '');

describe('alerting files shipped with the docs', () => {
  it('infra/alerting/alerting.yaml (mounted by docker-compose) is valid', () => {
    const config = parseAlertingConfig(
      parse(readFileSync(`${root}/infra/alerting/alerting.yaml`, 'utf8')),
      'infra',
    );
    expect(config.rules.for('any', 'flat_rate').whale.multiples).toHaveLength(6);
  });

  it("docs/alerts.md's example is valid, with its secrets filled in from the environment", () => {
    const doc = readFileSync(`${root}/docs/alerts.md`, 'utf8');
    const example = /```yaml\n(defaults:[\s\S]*?)```/.exec(doc)![1]!;
    const config = parseAlertingConfig(parse(fill(example)), 'docs');
    expect(config.destinations.map((d) => d.kind)).toEqual(['webhook', 'slack', 'pagerduty']);
    expect(config.rules.for('initech', 'enterprise').runaway.max_steps).toBe(200);
  });
});
