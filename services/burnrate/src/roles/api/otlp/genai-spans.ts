import { type StepKind, ValidationError } from '@burnrate/core';
import { buildEvent, type EmitInput, fromOtelGenAI } from '@burnrate/sdk';
import { spanEventId } from './event-id.js';
import { type Attributes, type AttributeValue, type OtlpSpan, STATUS_CODE_ERROR } from './spans.js';

/** Which span and resource attributes name the customer and the workflow of a GenAI span. */
export interface OtlpMappingConfig {
  /** Attribute keys searched, span attributes first then resource attributes, for the customer_ref. Default ['burnrate.customer_ref']. */
  customerAttributes: string[];
  /** Attribute keys for the workflow name (span, then resource). Default ['burnrate.workflow', 'gen_ai.agent.name']; fallback: the resource's service.name. */
  workflowAttributes: string[];
}

/** What one span becomes: a usage event, a rejection naming the attribute at fault, or nothing. */
export type SpanOutcome =
  | { kind: 'event'; input: EmitInput }
  | { kind: 'rejected'; field: string; message: string }
  | { kind: 'ignored' };

/** A span is a model call when it reports token usage under one of these (current or older) names. */
const USAGE_KEYS = [
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.usage.prompt_tokens',
  'gen_ai.usage.completion_tokens',
];

const STEP_KINDS: Record<string, StepKind> = {
  chat: 'llm_call',
  text_completion: 'llm_call',
  generate_content: 'llm_call',
  invoke_agent: 'llm_call',
  embeddings: 'embedding',
  execute_tool: 'tool_call',
};

const NANOS_PER_MS = 1_000_000n;
const IGNORED: SpanOutcome = { kind: 'ignored' };

/**
 * The usage event input for a GenAI span (OpenTelemetry GenAI semantic conventions), checked with
 * the client library's buildEvent() so it is accepted downstream. Provider, model and the
 * exclusive token buckets come from the SDK's fromOtelGenAI adapter.
 */
export function mapGenAISpan(span: OtlpSpan, config: OtlpMappingConfig): SpanOutcome {
  if (!USAGE_KEYS.some((key) => span.attributes.has(key))) return IGNORED;
  try {
    return { kind: 'event', input: usageInput(span, config) };
  } catch (error) {
    if (error instanceof ValidationError) {
      return { kind: 'rejected', field: error.field ?? 'span', message: error.message };
    }
    throw error;
  }
}

function usageInput(span: OtlpSpan, config: OtlpMappingConfig): EmitInput {
  checkId(span.traceId, 'traceId', 32);
  checkId(span.spanId, 'spanId', 16);
  if (span.parentSpanId !== null) checkId(span.parentSpanId, 'parentSpanId', 16);
  checkTokenCounts(span.attributes);
  const both = [span.attributes, span.resource];
  const customer = firstText(config.customerAttributes, both);
  if (customer === undefined) {
    throw new ValidationError(
      config.customerAttributes.join(', '),
      `The GenAI span has no customer: set the span or resource attribute ${config.customerAttributes[0]} ` +
        `to the customer_ref (searched: ${config.customerAttributes.join(', ')}).`,
    );
  }
  const usage = fromOtelGenAI(span.attributes);
  const service = firstText(['service.name'], [span.resource]) ?? 'unknown_service';
  const environment = firstText(['deployment.environment.name', 'deployment.environment'], both) ?? null;
  const effort = firstText(['burnrate.effort'], both);
  const tags = effort === undefined ? usage.tags : { ...usage.tags, effort };
  const operation = firstText(['gen_ai.operation.name'], [span.attributes]);
  const attempt = span.attributes.get('burnrate.attempt');
  const { startTimeUnixNano: start, endTimeUnixNano: end } = span;

  const input: EmitInput = {
    event_id: spanEventId(span.traceId, span.spanId, customer),
    occurred_at: Number(start / NANOS_PER_MS),
    service,
    customer_ref: customer,
    user_ref: firstText(['enduser.id', 'user.id'], both) ?? null,
    workflow:
      firstText(config.workflowAttributes, both) ?? firstText(['service.name'], [span.resource]) ?? null,
    workflow_run_id: span.traceId,
    step_id: span.spanId,
    parent_step_id: span.parentSpanId,
    step_kind: (operation !== undefined && STEP_KINDS[operation]) || 'llm_call',
    depth: 0,
    attempt: isInteger(attempt) ? Number(attempt) : 1,
    feature: firstText(['burnrate.feature'], both) ?? null,
    provider: usage.provider,
    model: usage.model,
    tokens: usage.tokens,
    latency_ms: end >= start ? Number((end - start) / NANOS_PER_MS) : null,
    status: span.statusCode === STATUS_CODE_ERROR ? 'error' : 'ok',
    environment,
    request_id: firstText(['gen_ai.response.id'], [span.attributes]) ?? null,
  };
  if (usage.units) input.units = usage.units;
  if (tags) input.tags = tags;
  // Throws the ValidationError the pipeline would, naming the field; the input itself is returned.
  buildEvent(input, { service, environment });
  return input;
}

function checkId(hex: string, field: string, digits: number): void {
  if (hex.length !== digits || /^0+$/.test(hex)) {
    throw new ValidationError(
      field,
      `The span's ${field} must be ${digits / 2} bytes and not all zero (got "${hex}").`,
    );
  }
}

/**
 * Token counts (gen_ai.usage.*_tokens) must be non-negative integers: the adapter would count a
 * negative or non-numeric one as 0, which hides an instrumentation bug behind a wrong cost.
 */
function checkTokenCounts(attributes: Attributes): void {
  for (const [key, value] of attributes) {
    if (!key.startsWith('gen_ai.usage.') || !key.endsWith('tokens')) continue;
    if (!isInteger(value)) {
      throw new ValidationError(
        key,
        `${key} must be an int attribute (a token count), not ${describe(value)}.`,
      );
    }
    if (value < 0 || value > Number.MAX_SAFE_INTEGER) {
      throw new ValidationError(key, `${key} is ${value}: a token count must be a non-negative integer.`);
    }
  }
}

function isInteger(value: AttributeValue | undefined): value is number | bigint {
  return typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value));
}

/**
 * The first of `keys` that has a usable value, looking through each attribute map in turn: a
 * non-empty string, or an integer written as its decimal digits.
 */
function firstText(keys: readonly string[], maps: readonly Attributes[]): string | undefined {
  for (const attributes of maps) {
    for (const key of keys) {
      const value = attributes.get(key);
      if (typeof value === 'string' && value !== '') return value;
      if (isInteger(value)) return String(value);
    }
  }
  return undefined;
}

function describe(value: AttributeValue): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'number') return `the double ${value}`;
  if (typeof value === 'boolean') return `the boolean ${value}`;
  if (value instanceof Uint8Array) return 'bytes';
  return Array.isArray(value) ? 'an array' : 'a key-value list';
}
