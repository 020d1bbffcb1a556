-- Hourly rollup by customer, workflow, feature, provider and model. SummingMergeTree folds rows with
-- the same key in the background: always query it with sum() ... GROUP BY.
CREATE TABLE IF NOT EXISTS {database}.usage_hourly
(
    hour DateTime('UTC'),
    customer_id String,
    workflow LowCardinality(String),
    feature LowCardinality(String),
    provider LowCardinality(String),
    model LowCardinality(String),
    events UInt64,
    unpriced_events UInt64,
    requests UInt64,
    tokens_input UInt64,
    tokens_cached_input UInt64,
    tokens_cache_write UInt64,
    tokens_output UInt64,
    tokens_reasoning UInt64,
    cost_total_nanos Int64,
    cost_input_nanos Int64,
    cost_cached_input_nanos Int64,
    cost_cache_write_nanos Int64,
    cost_output_nanos Int64,
    cost_reasoning_nanos Int64,
    cost_other_nanos Int64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, customer_id, workflow, feature, provider, model)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.usage_hourly_mv TO {database}.usage_hourly AS
SELECT
    toStartOfHour(occurred_at) AS hour,
    customer_id, workflow, feature, provider, model,
    count() AS events,
    countIf(unpriced = 1) AS unpriced_events,
    sum(requests) AS requests,
    sum(tokens_input) AS tokens_input,
    sum(tokens_cached_input) AS tokens_cached_input,
    sum(tokens_cache_write) AS tokens_cache_write,
    sum(tokens_output) AS tokens_output,
    sum(tokens_reasoning) AS tokens_reasoning,
    sum(cost_total_nanos) AS cost_total_nanos,
    sum(cost_input_nanos) AS cost_input_nanos,
    sum(cost_cached_input_nanos) AS cost_cached_input_nanos,
    sum(cost_cache_write_nanos) AS cost_cache_write_nanos,
    sum(cost_output_nanos) AS cost_output_nanos,
    sum(cost_reasoning_nanos) AS cost_reasoning_nanos,
    sum(cost_request_nanos + cost_units_nanos) AS cost_other_nanos
FROM {database}.usage_events
GROUP BY hour, customer_id, workflow, feature, provider, model;

-- Cost per customer per billing period (the customer's own anchor day), next to what the plan earns.
CREATE TABLE IF NOT EXISTS {database}.customer_period_cost
(
    billing_period_start Date,
    customer_id String,
    plan_kind SimpleAggregateFunction(anyLast, LowCardinality(String)),
    plan_currency SimpleAggregateFunction(anyLast, LowCardinality(String)),
    plan_revenue_nanos SimpleAggregateFunction(max, Int64),
    monthly_budget_nanos SimpleAggregateFunction(max, Int64),
    events SimpleAggregateFunction(sum, UInt64),
    unpriced_events SimpleAggregateFunction(sum, UInt64),
    cost_total_nanos SimpleAggregateFunction(sum, Int64)
)
ENGINE = AggregatingMergeTree
ORDER BY (billing_period_start, customer_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.customer_period_cost_mv TO {database}.customer_period_cost AS
SELECT
    billing_period_start,
    customer_id,
    anyLast(plan_kind) AS plan_kind,
    anyLast(plan_currency) AS plan_currency,
    max(plan_revenue_nanos) AS plan_revenue_nanos,
    max(monthly_budget_nanos) AS monthly_budget_nanos,
    toUInt64(count()) AS events,
    toUInt64(countIf(unpriced = 1)) AS unpriced_events,
    sum(cost_total_nanos) AS cost_total_nanos
FROM {database}.usage_events
GROUP BY billing_period_start, customer_id;

-- Analysts' view: margin per customer and period (revenue minus LLM cost), largest losses first.
CREATE VIEW IF NOT EXISTS {database}.customer_margin AS
SELECT
    billing_period_start,
    customer_id,
    any(plan_kind) AS plan_kind,
    any(plan_currency) AS plan_currency,
    max(plan_revenue_nanos) AS revenue_nanos,
    sum(cost_total_nanos) AS cost_nanos,
    max(plan_revenue_nanos) - sum(cost_total_nanos) AS margin_nanos,
    sum(events) AS events,
    sum(unpriced_events) AS unpriced_events,
    if(max(plan_revenue_nanos) = 0, NULL, sum(cost_total_nanos) / max(plan_revenue_nanos)) AS cost_to_revenue
FROM {database}.customer_period_cost
GROUP BY billing_period_start, customer_id;
