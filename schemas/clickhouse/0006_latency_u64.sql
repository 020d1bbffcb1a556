-- latency_ms was UInt32: a step longer than 2^32 - 1 ms (49.7 days) — an OTLP span that started long
-- before it ended — was stored wrapped. The contract allows any long up to 2^53 - 2, so the column
-- holds them all. Changing the type again is a no-op, so this is idempotent.
ALTER TABLE {database}.usage_events MODIFY COLUMN IF EXISTS latency_ms Nullable(UInt64);
