-- Re-pricing audit trail (`burnrate reprice`, docs/repricing.md). One row per fact a run changed,
-- written before the facts are mutated, with the pricing before and after, so the price_version
-- (and every cost bucket) a fact had before can always be looked up, and a run could be undone.
CREATE TABLE IF NOT EXISTS {database}.reprice_log
(
    run_id UUID,
    repriced_at DateTime64(3, 'UTC'),
    -- Which mutation of the run applied the row: the run stages and applies its changes in batches.
    apply_batch UInt32,
    event_id UUID,
    occurred_at DateTime64(3, 'UTC'),
    billing_period_start Date,
    customer_id String,
    provider LowCardinality(String),
    model LowCardinality(String),
    old_price_version LowCardinality(String),
    new_price_version LowCardinality(String),
    old_unpriced UInt8,
    new_unpriced UInt8,
    old_byok UInt8,
    new_byok UInt8,
    old_cost_total_nanos Int64,
    new_cost_total_nanos Int64,
    old_cost_input_nanos Int64,
    new_cost_input_nanos Int64,
    old_cost_cached_input_nanos Int64,
    new_cost_cached_input_nanos Int64,
    old_cost_cache_write_nanos Int64,
    new_cost_cache_write_nanos Int64,
    old_cost_output_nanos Int64,
    new_cost_output_nanos Int64,
    old_cost_reasoning_nanos Int64,
    new_cost_reasoning_nanos Int64,
    old_cost_request_nanos Int64,
    new_cost_request_nanos Int64,
    old_cost_units_nanos Int64,
    new_cost_units_nanos Int64,
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(repriced_at)
ORDER BY (run_id, apply_batch, event_id);

-- One row when a run starts and one when it has finished (facts mutated, rollups rebuilt and
-- verified). A run without a `finished` row was interrupted: the next run rebuilds its rollups.
CREATE TABLE IF NOT EXISTS {database}.reprice_runs
(
    run_id UUID,
    status LowCardinality(String),
    at DateTime64(3, 'UTC'),
    range_from DateTime64(3, 'UTC'),
    range_to DateTime64(3, 'UTC'),
    model String,
    provider String,
    customer_id String,
    price_catalog_version String,
    overrides_version String,
    scanned UInt64,
    changed UInt64,
    failed UInt64,
    unpriced_before UInt64,
    unpriced_after UInt64,
    cost_before_nanos Int64,
    cost_after_nanos Int64,
    recovered_runs Array(UUID)
)
ENGINE = MergeTree
ORDER BY (run_id, at);

-- Rebuilding customer_period_cost reads the facts of whole billing periods of a few customers.
-- billing_period_start follows occurred_at, which is in the sort key, so a minmax index prunes well.
-- Parts written before this migration simply lack the index and are read in full.
ALTER TABLE {database}.usage_events ADD INDEX IF NOT EXISTS idx_billing_period billing_period_start TYPE minmax GRANULARITY 1;
