import { describe, expect, it } from 'vitest';
import { DependencyJudge, Health, type PartitionOffsets, ProgressJudge } from '../../src/runtime/health.js';

const at = (committed: number, end: number, partition = 0): PartitionOffsets => ({
  topic: 't',
  partition,
  committed,
  end,
  start: 0,
});

describe('ProgressJudge: stalled = no progress for stallMs while lag > 0 and growing', () => {
  const STALL = 60_000;

  it('goes red when the offset stands still and the lag grows past the stall time, green when it moves', () => {
    const j = new ProgressJudge('g', STALL);
    j.observe(0, [at(100, 100)]);
    j.observe(30_000, [at(100, 150)]); // records waiting from here
    j.observe(60_000, [at(100, 200)]);
    expect(j.problem(60_000)).toBeUndefined(); // waiting 30 s: not long enough yet
    j.observe(90_000, [at(100, 260)]);
    expect(j.problem(90_000)).toMatch(/consumer group g has not advanced on 1 partition.*t\/0.*lag 160/);
    j.observe(95_000, [at(180, 270)]);
    expect(j.problem(95_000)).toBeUndefined();
  });

  it('a burst after a long idle time is not a stall until it has waited stallMs', () => {
    const j = new ProgressJudge('g', STALL);
    j.observe(0, [at(100, 100)]);
    j.observe(3_600_000, [at(100, 100)]); // an idle hour
    j.observe(3_605_000, [at(100, 5_000)]); // a burst arrives
    expect(j.problem(3_605_000)).toBeUndefined();
    j.observe(3_664_000, [at(100, 5_000)]);
    expect(j.problem(3_664_000)).toBeUndefined();
    j.observe(3_665_000, [at(100, 5_000)]);
    expect(j.problem(3_665_000)).toMatch(/no progress for 60 s, lag 4900/);
  });

  it('stays green while the lag grows but the offset moves (a slow consumer is not a stalled one)', () => {
    const j = new ProgressJudge('g', STALL);
    for (let t = 0, c = 0, e = 0; t <= 300_000; t += 5_000, c += 10, e += 50) j.observe(t, [at(c, e)]);
    expect(j.problem(300_000)).toBeUndefined();
  });

  it('stays green when nothing arrives: no progress with a constant lag is an idle consumer', () => {
    const j = new ProgressJudge('g', STALL);
    j.observe(0, [at(100, 100)]);
    j.observe(120_000, [at(100, 100)]);
    expect(j.problem(120_000)).toBeUndefined();
    // …and with a backlog that does not grow (nothing new arrives) it is not "growing" either.
    const k = new ProgressJudge('g', STALL);
    k.observe(0, [at(100, 150)]);
    k.observe(120_000, [at(100, 150)]);
    expect(k.problem(120_000)).toBeUndefined();
  });

  it('judges partitions apart: one stuck partition is red even while another progresses', () => {
    const j = new ProgressJudge('g', STALL);
    j.observe(0, [at(10, 10, 0), at(10, 10, 1)]);
    j.observe(5_000, [at(10, 20, 0), at(300, 310, 1)]);
    j.observe(70_000, [at(10, 40, 0), at(500, 520, 1)]);
    expect(j.problem(70_000)).toMatch(/on 1 partition\(s\).*t\/0/);
  });

  it('a group without commits counts its lag from the log start', () => {
    const j = new ProgressJudge('g', STALL);
    j.observe(0, [{ topic: 't', partition: 0, committed: -1, end: 5, start: 2 }]);
    j.observe(1_000, [{ topic: 't', partition: 0, committed: -1, end: 9, start: 2 }]);
    j.observe(61_000, [{ topic: 't', partition: 0, committed: -1, end: 9, start: 2 }]);
    expect(j.problem(61_000)).toMatch(/lag 7/);
  });

  it('knows nothing before the first observation, which is no failure', () => {
    expect(new ProgressJudge('g', STALL).problem(1e9)).toBeUndefined();
  });
});

describe('DependencyJudge: red only after failing for longer than the grace', () => {
  it('tolerates a blip, turns red past the grace, and green on the first success', () => {
    const d = new DependencyJudge('Redis', 10_000);
    d.observe(0, 'ECONNREFUSED');
    d.observe(10_000, 'ECONNREFUSED');
    expect(d.problem(10_000)).toBeUndefined();
    d.observe(11_000, 'ECONNREFUSED');
    expect(d.problem(11_000)).toBe('Redis unreachable for 11 s: ECONNREFUSED');
    d.observe(12_000, undefined);
    expect(d.problem(12_000)).toBeUndefined();
  });

  it('a success in between starts the grace afresh', () => {
    const d = new DependencyJudge('ClickHouse', 10_000);
    d.observe(0, 'timeout');
    d.observe(8_000, undefined);
    d.observe(9_000, 'timeout');
    expect(d.problem(18_000)).toBeUndefined();
    expect(d.problem(19_001)).toMatch(/ClickHouse unreachable for 10 s: timeout/);
  });
});

describe('Health', () => {
  it('is not ready until started, ready once started, not ready while stopping; live throughout', () => {
    const h = new Health(0);
    expect(h.readiness(1).ok).toBe(false);
    expect(h.liveness().ok).toBe(true);
    h.started(2);
    expect(h.readiness(3)).toEqual({
      ok: true,
      checks: [
        { name: 'roles', ok: true, reason: '', since: new Date(2).toISOString() },
        { name: 'started', ok: true, reason: '', since: new Date(2).toISOString() },
      ],
    });
    h.stopping(4);
    expect(h.readiness(5).ok).toBe(false);
    expect(h.liveness().ok).toBe(true);
  });

  it('a crashed role turns liveness and readiness red, with the reason', () => {
    const h = new Health(0);
    h.started(1);
    h.crashed(2, 'The ledger stopped for good: boom');
    expect(h.liveness()).toEqual({
      ok: false,
      reason: 'The ledger stopped for good: boom',
      since: new Date(2).toISOString(),
    });
    const ready = h.readiness(3);
    expect(ready.ok).toBe(false);
    expect(ready.checks[0]).toMatchObject({ name: 'roles', ok: false });
  });

  it('lists every check with reason and the time it last changed', () => {
    const h = new Health(0);
    h.started(0);
    const d = new DependencyJudge('Redis', 1_000);
    h.add('redis', d);
    expect(h.readiness(10).checks.at(-1)).toEqual({
      name: 'redis',
      ok: true,
      reason: '',
      since: new Date(10).toISOString(),
    });
    d.observe(20, 'refused');
    h.readiness(500);
    const red = h.readiness(2_000);
    expect(red.ok).toBe(false);
    expect(red.checks.at(-1)).toEqual({
      name: 'redis',
      ok: false,
      reason: 'Redis unreachable for 2 s: refused',
      since: new Date(2_000).toISOString(),
    });
    d.observe(3_000, undefined);
    expect(h.readiness(3_000).checks.at(-1)).toMatchObject({
      ok: true,
      since: new Date(3_000).toISOString(),
    });
  });
});
