import { pbkdf2 } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILT_IN_ALERTING, ConfigError } from '@burnrate/core';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createAlertingSource } from '../../src/alerting/alerting-file.js';

const dirs: string[] = [];
const sources: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const s of sources.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface LogLine {
  level: number;
  msg: string;
  file?: string;
  inForce?: string;
  version?: string;
}

/** A source on a temp file, with its log lines captured. */
function setup(name: string, text: string | null, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'burnrate-rules-'));
  dirs.push(dir);
  const file = join(dir, name);
  if (text !== null) writeFileSync(file, text);
  const lines: string[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write(s: string) {
        lines.push(s);
      },
    },
  );
  const source = createAlertingSource({ file, pollMs: 100 }, { env, logger });
  sources.push(source);
  const logs = () => lines.map((l) => JSON.parse(l) as LogLine);
  const errors = () => logs().filter((l) => l.level === 50);
  return { file, source, logs, errors, write: (t: string) => writeFileSync(file, t) };
}

const maxSteps = (s: ReturnType<typeof setup>['source'], customer = 'acme', plan = 'flat_rate') =>
  s.current().rules.for(customer, plan).runaway.max_steps;

async function until(check: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return check();
}

/** `${NAME}` as written in the file. */
const ref = (name: string) => '$' + '{' + name + '}';

const YAML_7 = `version: 1
plans:
  flat_rate:
    runaway:
      max_steps: 7
customers:
  vip:
    runaway:
      max_steps: 500
`;

describe('the alerting file source', () => {
  it('loads a YAML file at start: plan and customer overrides are in force', async () => {
    const t = setup('rules.yaml', YAML_7);
    expect(t.source.current()).toBe(BUILT_IN_ALERTING);
    await t.source.start();
    expect(maxSteps(t.source)).toBe(7);
    expect(maxSteps(t.source, 'acme', 'usage_based')).toBe(50); // the built-in default
    expect(maxSteps(t.source, 'vip', 'flat_rate')).toBe(500); // customer beats plan
    expect(t.source.current().source).toBe(t.file);
    expect(t.logs().find((l) => l.msg === 'alerting rules loaded')).toMatchObject({
      level: 30,
      file: t.file,
    });
    // Nothing changed on disk: a reload is a no-op.
    expect(t.source.reload()).toBe(false);
  });

  it('reads a JSON file too', async () => {
    const t = setup(
      'rules.json',
      JSON.stringify({ defaults: { runaway: { max_steps: 12 } }, plans: { enterprise: { runaway: {} } } }),
    );
    await t.source.start();
    expect(maxSteps(t.source, 'acme', 'enterprise')).toBe(12);
    expect(maxSteps(t.source, 'acme', 'flat_rate')).toBe(12);
  });

  it('without a file: the built-in defaults and no destinations', async () => {
    const source = createAlertingSource({ file: undefined }, { env: {}, logger: pino({ level: 'silent' }) });
    await source.start();
    expect(source.current()).toBe(BUILT_IN_ALERTING);
    expect(source.current().destinations).toEqual([]);
    expect(source.reload()).toBe(false);
    await source.stop();
  });

  it('refuses to start on a malformed file, naming the rule and the field', async () => {
    const t = setup('rules.yaml', 'plans:\n  flat_rate:\n    whale:\n      multiples: [2, 0]\n');
    const error = await t.source.start().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('BURNRATE_RULES_FILE');
    expect((error as Error).message).toBe(
      `BURNRATE_RULES_FILE (${t.file}) is invalid: plans.flat_rate: the whale rule's multiples[1] must be greater than 0 (got 0).`,
    );
    expect(t.source.current()).toBe(BUILT_IN_ALERTING);

    // A negative number is not a decimal at all (decimals are non-negative): still rule and field.
    const negative = setup('rules.yaml', 'customers:\n  acme:\n    spike:\n      multiple: -1\n');
    await expect(negative.source.start()).rejects.toThrow(
      /customers\.acme: the spike rule's multiple must be .*\(got -1\)\.$/,
    );
  });

  it('refuses to start on a missing file, naming it', async () => {
    const t = setup('absent.yaml', null);
    await expect(t.source.start()).rejects.toThrow(
      /BURNRATE_RULES_FILE names .*absent\.yaml, which cannot be read/,
    );
  });

  it('after start, refuses a malformed file with a logged sentence and keeps the rules in force', async () => {
    const t = setup('rules.yaml', YAML_7);
    await t.source.start();
    const inForce = t.source.current();

    const refused = async (text: string, sentence: RegExp) => {
      const before = t.errors().length;
      t.write(text);
      expect(t.source.reload()).toBe(false);
      const added = t.errors().slice(before);
      expect(added.length).toBeGreaterThan(0);
      for (const line of added) {
        expect(line.msg).toMatch(sentence);
        expect(line.msg).toMatch(/The alerting rules in force stay\.$/);
        expect(line.file).toBe(t.file);
        expect(line.inForce).toMatch(/^[0-9a-f]{12}$/);
      }
      expect(t.source.current()).toBe(inForce);
      expect(maxSteps(t.source)).toBe(7);
    };

    // A bad field.
    await refused(
      'plans:\n  flat_rate:\n    runaway:\n      max_steps: 0\n',
      /plans\.flat_rate: the runaway rule's max_steps .*\(got 0\)/,
    );
    await refused(
      'plans:\n  flat_rate:\n    whale:\n      multiples: [2, 0]\n',
      /plans\.flat_rate: the whale rule's multiples\[1\] must be greater than 0 \(got 0\)/,
    );
    // An unknown key (a misspelt rule, and a misspelt field of a rule).
    await refused(
      'plans:\n  flat_rate:\n    runaways:\n      max_steps: 3\n',
      /plans\.flat_rate: unknown setting "runaways"/,
    );
    // (core's rules/file.ts names only the plan here, "plans.flat_rate: unknown setting …", not the
    // runaway rule; the pattern also accepts "plans.flat_rate.runaway: …" once it does.)
    await refused(
      'plans:\n  flat_rate:\n    runaway:\n      max_step: 3\n',
      /plans\.flat_rate.*unknown setting "max_step"/,
    );
    // Not YAML at all.
    await refused('plans:\n  flat_rate: [unclosed\n', /is not valid YAML or JSON/);

    // The watcher saw those files too, and refused them the same way: still the first rules.
    await new Promise((r) => setTimeout(r, 400));
    expect(t.source.current()).toBe(inForce);
  });

  it('picks up a valid file by itself (polling), without reload() or a restart', async () => {
    const t = setup('rules.yaml', YAML_7);
    await t.source.start();
    expect(maxSteps(t.source)).toBe(7);

    t.write(YAML_7.replace('max_steps: 7', 'max_steps: 9'));
    expect(await until(() => maxSteps(t.source) === 9)).toBe(true);
    expect(maxSteps(t.source, 'vip', 'flat_rate')).toBe(500);
    const loaded = t.logs().filter((l) => l.msg === 'alerting rules loaded');
    expect(loaded).toHaveLength(2);
    expect(loaded[1]!.version).not.toBe(loaded[0]!.version);

    // A broken file in between is refused by the watcher and the next valid one is taken.
    t.write('plans:\n  flat_rate:\n    runaway:\n      max_steps: -3\n');
    expect(await until(() => t.errors().length > 0)).toBe(true);
    expect(t.errors()[0]!.msg).toMatch(/the runaway rule's max_steps/);
    expect(maxSteps(t.source)).toBe(9);
    t.write(YAML_7.replace('max_steps: 7', 'max_steps: 11'));
    expect(await until(() => maxSteps(t.source) === 11)).toBe(true);

    // After stop() the file is no longer followed.
    await t.source.stop();
    t.write(YAML_7.replace('max_steps: 7', 'max_steps: 13'));
    await new Promise((r) => setTimeout(r, 500));
    expect(maxSteps(t.source)).toBe(11);
  });

  it('does not miss a change made right after start, while the watcher takes its first look', async () => {
    const t = setup('rules.yaml', YAML_7);
    // Keep the libuv threadpool busy, so any asynchronous first stat of the file runs late.
    const busy = Array.from(
      { length: 16 },
      () => new Promise((r) => pbkdf2('x', 'y', 400_000, 32, 'sha256', () => r(null))),
    );
    await t.source.start();
    expect(maxSteps(t.source)).toBe(7);
    t.write(YAML_7.replace('max_steps: 7', 'max_steps: 8'));
    await Promise.all(busy);
    expect(await until(() => maxSteps(t.source) === 8, 3_000)).toBe(true);
  });

  it(`replaces ${ref('NAME')} from the env dep, and names a missing variable`, async () => {
    const file = `destinations:
  - name: oncall
    kind: pagerduty
    routing_key: ${ref('PD_ROUTING_KEY')}
  - name: ops
    kind: slack
    url: https://hooks.slack.example/services/${ref('SLACK_PATH')}
`;
    const t = setup('rules.yaml', file, { PD_ROUTING_KEY: 'R0UT1NGKEY', SLACK_PATH: 'T0/B0/xyz' });
    await t.source.start();
    expect(t.source.current().destinations).toEqual([
      {
        name: 'oncall',
        kind: 'pagerduty',
        routing_key: 'R0UT1NGKEY',
        url: 'https://events.pagerduty.com/v2/enqueue',
      },
      { name: 'ops', kind: 'slack', url: 'https://hooks.slack.example/services/T0/B0/xyz' },
    ]);

    // A variable the environment lacks: refused after start…
    const inForce = t.source.current();
    t.write(file.replace(ref('SLACK_PATH'), ref('SLACK_HOOK_PATH')));
    expect(t.source.reload()).toBe(false);
    expect(t.errors().at(-1)!.msg).toContain(
      `uses ${ref('SLACK_HOOK_PATH')}, but the environment variable SLACK_HOOK_PATH is not set.`,
    );
    expect(t.source.current()).toBe(inForce);

    // …and fatal at boot.
    const boot = setup('rules.yaml', file, { SLACK_PATH: 'x' });
    const error = await boot.source.start().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(
      `uses ${ref('PD_ROUTING_KEY')}, but the environment variable PD_ROUTING_KEY is not set.`,
    );
  });
});
