import { BurnrateError, ValidationError } from '@burnrate/core';
import { type Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { AggregateKeys } from '../redis/aggregate-keys.js';
import type { DeliveryJob } from '../roles/notifier/notifier.js';
import { type CliOutput, renderTable, toJson } from './kit/output.js';

/** A delivery that failed for good, as `burnrate alerts failed --json` prints it. */
export interface FailedDelivery {
  job_id: string;
  message_id: string;
  alert_id: string;
  destination: string;
  event: string;
  rule: string;
  severity: string;
  subject: string;
  threshold: string;
  /** Attempts made since the job was (re)queued. */
  attempts: number;
  last_error: string;
  /** ISO-8601 UTC; empty when BullMQ did not record it. */
  failed_at: string;
}

/**
 * Connects to REDIS_URL once, without retrying: an on-call command must fail at once with a sentence
 * naming the setting, not hang. Credentials in the URL never appear in the message.
 */
export async function openRedis(url: string, connectTimeoutMs = 5_000): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  // The socket error says why (connect() itself only rejects with "Connection is closed").
  let cause: unknown;
  redis.on('error', (error) => {
    cause ??= error;
  });
  try {
    await redis.connect();
    return redis;
  } catch (error) {
    redis.disconnect();
    const e = (cause ?? error) as { code?: unknown; message?: unknown };
    const reason = typeof e.code === 'string' ? e.code : String(e.message ?? error);
    throw new BurnrateError(
      'redis_unreachable',
      `Redis at ${new URL(url).host} (REDIS_URL) cannot be used (${reason}): start it or fix REDIS_URL.`,
      { retriable: true, field: 'REDIS_URL', cause: cause ?? error },
    );
  }
}

/** The deliveries queue as the notifier sees it (same name and BullMQ prefix). */
export function deliveriesQueue(redis: Redis, bullPrefix: string): Queue<DeliveryJob> {
  return new Queue<DeliveryJob>('deliveries', { connection: redis, prefix: bullPrefix });
}

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : '');

function describeJob(job: Job<DeliveryJob>): FailedDelivery {
  const p = job.data.payload;
  return {
    job_id: job.id ?? '',
    message_id: p.id,
    alert_id: p.alert_id,
    destination: job.data.destination,
    event: p.type === 'alert.fired' ? 'fired' : 'resolved',
    rule: p.rule,
    severity: p.severity,
    subject: p.subject,
    threshold: p.threshold,
    attempts: job.attemptsMade,
    last_error: job.failedReason ?? '',
    failed_at: iso(job.finishedOn),
  };
}

/** Failed delivery jobs, the most recent failure first. */
export async function failedDeliveries(queue: Queue<DeliveryJob>): Promise<FailedDelivery[]> {
  const jobs = (await queue.getFailed(0, -1)).filter((j): j is Job<DeliveryJob> => Boolean(j?.data?.payload));
  jobs.sort((a, b) => (b.finishedOn ?? 0) - (a.finishedOn ?? 0));
  return jobs.map(describeJob);
}

/** Destinations switched off after a 410 Gone. */
async function disabledDestinations(redis: Redis, keys: AggregateKeys): Promise<string[]> {
  return (await redis.hkeys(keys.disabledDestinations)).sort();
}

/** `burnrate alerts failed`. */
export async function printFailed(
  deps: { redis: Redis; keys: AggregateKeys; queue: Queue<DeliveryJob> },
  json: boolean,
  out: CliOutput,
): Promise<void> {
  const failed = await failedDeliveries(deps.queue);
  if (json) {
    out.out(toJson(failed));
    return;
  }
  if (failed.length === 0) {
    out.out('No delivery has failed for good.\n');
  } else {
    out.out(
      renderTable(
        [
          { title: 'JOB ID' },
          { title: 'DESTINATION' },
          { title: 'RULE' },
          { title: 'SEVERITY' },
          { title: 'SUBJECT', maxChars: 40 },
          { title: 'ATTEMPTS', align: 'right' },
          { title: 'LAST ERROR', maxChars: 60 },
          { title: 'WHEN' },
        ],
        failed.map((f) => [
          f.job_id,
          f.destination,
          `${f.rule} ${f.threshold}`,
          f.severity,
          f.subject,
          String(f.attempts),
          f.last_error,
          f.failed_at,
        ]),
      ),
    );
    out.out(
      `\n${failed.length} failed for good; \`burnrate alerts replay <job id>\` (or --all) sends them again.\n`,
    );
  }
  const disabled = await disabledDestinations(deps.redis, deps.keys);
  if (disabled.length > 0) {
    out.out(
      `Disabled after 410 Gone: ${disabled.join(', ')}; \`burnrate alerts enable <destination>\` re-enables one.\n`,
    );
  }
}

/** Requeues one failed job with a fresh set of attempts (its attempt numbers keep counting up). */
async function requeue(job: Job<DeliveryJob>): Promise<void> {
  try {
    await job.retry('failed', { resetAttemptsMade: true });
  } catch (error) {
    throw new BurnrateError(
      'replay_failed',
      `Delivery job "${job.id}" could not be requeued (${(error as Error).message}); run \`burnrate alerts failed\` to see where it stands.`,
      { cause: error },
    );
  }
}

/**
 * `burnrate alerts replay <job id> | --all`.
 * @throws ValidationError (`invalid_argument`) for an id that is not a failed delivery job.
 */
export async function replay(
  deps: { redis: Redis; keys: AggregateKeys; queue: Queue<DeliveryJob>; topicPrefix: string },
  target: { jobId: string | undefined; all: boolean },
  out: CliOutput,
): Promise<void> {
  let jobs: Job<DeliveryJob>[];
  if (target.all) {
    jobs = (await deps.queue.getFailed(0, -1)).filter((j): j is Job<DeliveryJob> => Boolean(j));
    if (jobs.length === 0) {
      out.out('Nothing to replay: no delivery has failed for good.\n');
      return;
    }
  } else {
    const id = target.jobId!;
    const job = await deps.queue.getJob(id);
    if (!job) {
      throw new ValidationError(
        'job id',
        `There is no delivery job "${id}" (BURNRATE_TOPIC_PREFIX "${deps.topicPrefix}"); \`burnrate alerts failed\` lists the ones that can be replayed.`,
        'invalid_argument',
      );
    }
    const state = await job.getState();
    if (state !== 'failed') {
      throw new ValidationError(
        'job id',
        `Delivery job "${id}" is ${state}, not failed; only deliveries that failed for good can be replayed.`,
        'invalid_argument',
      );
    }
    jobs = [job];
  }
  const disabled = new Set(await disabledDestinations(deps.redis, deps.keys));
  for (const job of jobs) {
    await requeue(job);
    const p = job.data.payload;
    out.out(`requeued ${job.id} → ${job.data.destination} (${p.rule} ${p.threshold}, ${p.subject})\n`);
    if (disabled.has(job.data.destination)) {
      out.err(
        `note: ${job.data.destination} is disabled (it answered 410 Gone), so this delivery will be skipped; run \`burnrate alerts enable ${job.data.destination}\` and replay it again.\n`,
      );
    }
  }
  if (jobs.length > 1) out.out(`${jobs.length} deliveries requeued.\n`);
}

/** `burnrate alerts enable <destination>`. */
export async function enable(
  deps: { redis: Redis; keys: AggregateKeys },
  destination: string,
  out: CliOutput,
): Promise<void> {
  const removed = await deps.redis.hdel(deps.keys.disabledDestinations, destination);
  if (removed === 1) {
    out.out(
      `Destination ${destination} is enabled again. Its delivery that got 410 Gone is listed by \`burnrate alerts failed\` and can be replayed; alerts skipped while it was disabled are not resent.\n`,
    );
    return;
  }
  const disabled = await disabledDestinations(deps.redis, deps.keys);
  out.out(
    `Destination ${destination} is not disabled (disabled now: ${disabled.length ? disabled.join(', ') : 'none'}); nothing to do.\n`,
  );
}
