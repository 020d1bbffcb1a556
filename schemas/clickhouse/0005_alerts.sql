-- Every alert message burnrate sent (fired and resolved), one row per message id (= webhook-id),
-- with the payload exactly as delivered. The relay may insert a message again after a crash: the
-- ReplacingMergeTree folds such repeats, so count with FINAL (or uniqExact(message_id)).
CREATE TABLE IF NOT EXISTS {database}.alerts
(
    message_id String,
    alert_id String,
    event LowCardinality(String),
    rule LowCardinality(String),
    severity LowCardinality(String),
    subject String,
    customer_id String,
    threshold String,
    period String,
    value String,
    limit_value String,
    unit LowCardinality(String),
    summary String,
    at DateTime64(3, 'UTC'),
    payload String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY message_id;

-- Every delivery attempt of every message to every destination, whatever its outcome:
-- delivered, retrying (will be retried), failed (given up), refused (SSRF guard, bad request),
-- disabled (the destination answered 410 Gone) or skipped (the destination is disabled).
CREATE TABLE IF NOT EXISTS {database}.alert_deliveries
(
    attempt_id String,
    message_id String,
    alert_id String,
    destination LowCardinality(String),
    kind LowCardinality(String),
    attempt UInt32,
    outcome LowCardinality(String),
    status UInt16,
    error String,
    duration_ms UInt32,
    at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (message_id, destination, attempt_id);
