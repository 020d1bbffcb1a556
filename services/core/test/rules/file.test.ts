import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseAlertingConfig } from '../../src/rules/file.js';
import { DEFAULT_RULES } from '../../src/rules/settings.js';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function refusal(value: unknown): ConfigError {
  try {
    parseAlertingConfig(value, 'rules.yaml');
  } catch (error) {
    return error as ConfigError;
  }
  throw new Error('expected the file to be refused');
}

describe('the alerting file', () => {
  it('without overrides is the defaults', () => {
    const config = parseAlertingConfig({}, 'rules.yaml');
    expect(config.rules.for('acme', 'flat_rate')).toEqual(DEFAULT_RULES);
    expect(config.destinations).toEqual([]);
  });

  it('merges defaults ← plan ← customer, rule by rule and field by field', () => {
    const { rules } = parseAlertingConfig(
      {
        defaults: { budget: { percents: [90] }, spike: { multiple: '2.5' } },
        plans: { flat_rate: { whale: { multiples: [1, 2] }, spike: { min_usd: 1 } } },
        customers: { acme: { whale: { enabled: false }, budget: { amounts_usd: ['1000.50'] } } },
      },
      'rules.yaml',
    );
    const acme = rules.for('acme', 'flat_rate');
    expect(acme.budget.percents).toEqual([{ units: 90n, scale: 0 }]);
    expect(acme.budget.amounts_nanos).toEqual([1_000_500_000_000n]);
    expect(acme.whale).toMatchObject({
      enabled: false,
      multiples: [
        { units: 1n, scale: 0 },
        { units: 2n, scale: 0 },
      ],
    });
    expect(acme.spike).toMatchObject({ multiple: { units: 25n, scale: 1 }, min_nanos: 1_000_000_000n });
    const other = rules.for('globex', 'usage_based');
    expect(other.whale).toEqual(DEFAULT_RULES.whale);
    expect(other.budget.percents).toEqual([{ units: 90n, scale: 0 }]);
  });

  it('names the section, the rule and the field at fault', () => {
    const e = refusal({ plans: { flat_rate: { whale: { multiples: [1, 5, -1] } } } });
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.field).toBe('BURNRATE_RULES_FILE');
    expect(e.message).toBe(
      'BURNRATE_RULES_FILE (rules.yaml) is invalid: plans.flat_rate: the whale rule\'s multiples[2] must be a plain decimal number such as 80 or "2.5" (got -1).',
    );
    expect(refusal({ customers: { acme: { runaway: { max_steps: 0 } } } }).message).toMatch(
      /customers\.acme: the runaway rule's max_steps .*\(got 0\)\.$/,
    );
    expect(refusal({ defaults: { budget: { amounts_usd: ['0.0000000001'] } } }).message).toMatch(
      /defaults: the budget rule's amounts_usd\[0\] has more than 9 decimals/,
    );
    expect(refusal({ defaults: { whale: { multipels: [2] } } }).message).toMatch(
      /defaults\.whale: unknown setting "multipels"; check its spelling\./,
    );
    expect(refusal({ defaults: { wale: {} } }).message).toMatch(/unknown setting "wale"/);
  });

  it('refuses a fractional percent (it would break exact arithmetic later) and never echoes destination values', () => {
    expect(refusal({ defaults: { spike: { hysteresis_percent: 12.5 } } }).message).toMatch(
      /defaults: the spike rule's hysteresis_percent must be a whole number of percent \(got 12\.5\)\./,
    );
    const leaked = refusal({
      destinations: [{ name: 'oncall', kind: 'webhook', url: 'https://x.example/', secrets: [`${secret}!`] }],
    }).message;
    expect(leaked).toMatch(/destination "oncall": secrets/);
    expect(leaked).not.toContain('MfKQ9r8GKYqrTwjUPD8');
    const slack = refusal({
      destinations: [{ name: 's', kind: 'slack', url: 'hooks.slack.com/services/T0/B0/SECRETTOKEN' }],
    });
    expect(slack.message).not.toContain('SECRETTOKEN');
  });

  it('validates destinations: kinds, URLs, webhook secrets, unique names', () => {
    const { destinations } = parseAlertingConfig(
      {
        destinations: [
          { name: 'oncall', kind: 'webhook', url: 'https://hooks.example.com/x', secrets: [secret] },
          { name: 'pd', kind: 'pagerduty', routing_key: 'R0UT1NG', match: { min_severity: 'critical' } },
        ],
      },
      'rules.yaml',
    );
    expect(destinations[1]).toMatchObject({ url: 'https://events.pagerduty.com/v2/enqueue' });
    expect(
      refusal({
        destinations: [{ name: 'oncall', kind: 'webhook', url: 'https://x.example/', secrets: ['nope!'] }],
      }).message,
    ).toMatch(/destination "oncall": secrets .*base64/);
    expect(
      refusal({
        destinations: [{ name: 'oncall', kind: 'webhook', url: 'ftp://x.example/', secrets: [secret] }],
      }).message,
    ).toMatch(/destination "oncall": url must be an http:\/\/ or https:\/\/ URL/);
    expect(
      refusal({
        destinations: [
          { name: 'a', kind: 'slack', url: 'https://hooks.slack.com/services/x' },
          { name: 'a', kind: 'slack', url: 'https://hooks.slack.com/services/y' },
        ],
      }).message,
    ).toMatch(/destination "a": name repeats the name "a"/);
    expect(refusal({ destinations: [{ name: 'x', kind: 'email' }] }).message).toMatch(
      /destination "x": kind/,
    );
  });
});
