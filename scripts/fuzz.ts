// `npm run fuzz [-- --seed N] [--total N]`: mutated usage events through the decoder, the enricher
// process and the HTTP ingest (docs/reliability.md, "Fuzzing"). Uses KAFKA_BROKERS when set, else
// starts a broker of its own on FUZZ_KAFKA_PORT (default 39392); Redis at REDIS_URL.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeStackFailure, startLocalStack } from '@burnrate/devstack';
import { runFuzz, splitTotal } from '../services/burnrate/src/fuzz/index.js';

const { values } = parseArgs({
  options: { seed: { type: 'string' }, total: { type: 'string', default: '100000' } },
});
const total = Number(values.total);
const seed = values.seed === undefined ? undefined : Number(values.seed);
if (!Number.isInteger(total) || total < 7 || (seed !== undefined && !Number.isInteger(seed))) {
  console.error('usage: npm run fuzz -- [--seed <integer>] [--total <cases, at least 7>]');
  process.exit(2);
}
const root = fileURLToPath(new URL('..', import.meta.url));
const log = (m: string) => console.log(`[fuzz] ${m}`);

let stack: Awaited<ReturnType<typeof startLocalStack>>;
try {
  stack = await startLocalStack({
    rootDir: root,
    name: 'fuzz',
    kafkaBrokers: process.env.KAFKA_BROKERS,
    kafkaPort: Number(process.env.FUZZ_KAFKA_PORT ?? 39392),
    kafkaControllerPort: Number(process.env.FUZZ_KAFKA_CONTROLLER_PORT ?? 39393),
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisPort: 36380,
    freshKafka: true,
    log,
  });
} catch (error) {
  console.error(`[fuzz] ${describeStackFailure(error)}`);
  process.exit(1);
}
let code = 1;
try {
  const result = await runFuzz({
    ...(seed === undefined ? {} : { seed }),
    counts: splitTotal(total),
    brokers: stack.kafkaBrokers,
    redisUrl: stack.redisUrl,
    log,
  });
  console.log(`\n${result.text}`);
  console.log(`\nrepeat with: npm run fuzz -- --seed ${result.seed} --total ${total}`);
  code = result.failures === 0 && result.crashes === 0 ? 0 : 1;
} finally {
  await stack.stop();
}
process.exit(code);
