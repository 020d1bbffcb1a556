-- Facts: one row per usage event, priced and attributed by the enricher, written by the ledger.
-- Money columns are integer nano-USD (1e-9 USD). Token columns are exclusive buckets.
CREATE TABLE IF NOT EXISTS {database}.usage_events
(
    event_id UUID,
    occurred_at DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC'),
    service LowCardinality(String),
    customer_ref String,
    customer_id String,
    customer_name String,
    team LowCardinality(String),
    plan_kind LowCardinality(String),
    plan_currency LowCardinality(String),
    plan_revenue_nanos Int64,
    monthly_budget_nanos Int64,
    billing_period_start Date,
    unmapped UInt8,
    user_ref String,
    workflow LowCardinality(String),
    workflow_run_id String,
    step_id String,
    parent_step_id String,
    step_kind LowCardinality(String),
    depth UInt16,
    attempt UInt16,
    feature LowCardinality(String),
    provider LowCardinality(String),
    model LowCardinality(String),
    tokens_input UInt64,
    tokens_cached_input UInt64,
    tokens_cache_write UInt64,
    tokens_output UInt64,
    tokens_reasoning UInt64,
    requests UInt32,
    units_images UInt32,
    units_audio_ms UInt64,
    units_web_search_calls UInt32,
    latency_ms Nullable(UInt32),
    status LowCardinality(String),
    provider_reported_cost_nanos Nullable(Int64),
    quality_score Nullable(Float32),
    tags Map(String, String),
    cost_input_nanos Int64,
    cost_cached_input_nanos Int64,
    cost_cache_write_nanos Int64,
    cost_output_nanos Int64,
    cost_reasoning_nanos Int64,
    cost_request_nanos Int64,
    cost_units_nanos Int64,
    cost_total_nanos Int64,
    price_version LowCardinality(String),
    unpriced UInt8,
    byok UInt8,
    source_topic LowCardinality(String),
    source_partition UInt32,
    source_offset UInt64,
    kafka_topic LowCardinality(String),
    kafka_partition UInt32,
    kafka_offset UInt64,
    INDEX idx_kafka_offset kafka_offset TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (customer_id, occurred_at, event_id)
SETTINGS non_replicated_deduplication_window = 10000;

-- Bad input, kept with its original bytes (base64) and where it came from.
CREATE TABLE IF NOT EXISTS {database}.dead_letters
(
    received_at DateTime64(3, 'UTC'),
    reason LowCardinality(String),
    field String,
    message String,
    source_topic LowCardinality(String),
    source_partition UInt32,
    source_offset UInt64,
    key String,
    payload_base64 String,
    kafka_topic LowCardinality(String),
    kafka_partition UInt32,
    kafka_offset UInt64
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (reason, received_at)
SETTINGS non_replicated_deduplication_window = 10000;
