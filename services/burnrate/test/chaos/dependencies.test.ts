import { chaosSuite } from './chaos-suite.js';

// ClickHouse away, Redis restarted empty, the webhook receiver failing (docs/reliability.md).
chaosSuite(['clickhouse-away', 'redis-restart', 'webhook-failing'], 40);
