import { type Attributes, ROOT_CONTEXT, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { type ScenarioName, T0 } from './otlp-harness.js';

/** Finished spans as the official SDK hands them to an exporter, all under one resource. */
async function recordSpans(resource: Attributes, record: (tracer: Tracer) => void): Promise<ReadableSpan[]> {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  record(provider.getTracer('otlp-test'));
  await provider.forceFlush();
  const spans = exporter.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

/** GenAI attributes of one chat call: OpenAI counts, cached input and reasoning included. */
export const CHAT_ATTRIBUTES: Attributes = {
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o',
  'gen_ai.response.model': 'gpt-4o-2024-08-06',
  'gen_ai.response.id': 'chatcmpl-42',
  'gen_ai.usage.input_tokens': 1000,
  'gen_ai.usage.cache_read.input_tokens': 400,
  'gen_ai.usage.output_tokens': 500,
  'gen_ai.usage.reasoning.output_tokens': 200,
};

/**
 * An agent run as an instrumented service reports it: an invoke_agent root (no usage), a chat call
 * that failed, an embeddings call for another customer (older attribute names), a tool call with
 * usage, and an HTTP client span.
 */
function agent(): Promise<ReadableSpan[]> {
  const resource = {
    'service.name': 'support-bot',
    'deployment.environment.name': 'production',
    'burnrate.customer_ref': 'acme',
  };
  return recordSpans(resource, (tracer) => {
    const root = tracer.startSpan(
      'invoke_agent research',
      {
        startTime: [T0, 0],
        attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'research-agent' },
      },
      ROOT_CONTEXT,
    );
    const inRoot = trace.setSpan(ROOT_CONTEXT, root);
    const chat = tracer.startSpan(
      'chat gpt-4o',
      {
        startTime: [T0, 123_456_789],
        attributes: {
          ...CHAT_ATTRIBUTES,
          'burnrate.workflow': 'contract-review',
          'burnrate.feature': 'smart-reply',
          'burnrate.effort': 'high',
          'burnrate.attempt': 2,
          'enduser.id': 'u-7',
        },
      },
      inRoot,
    );
    chat.setStatus({ code: SpanStatusCode.ERROR, message: 'rate limited' });
    chat.end([T0 + 1, 456_999_999]);
    const embeddingAttributes = {
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'text-embedding-3-small',
      'gen_ai.usage.prompt_tokens': 42,
      'burnrate.customer_ref': 'globex',
    };
    tracer
      .startSpan('embeddings', { startTime: [T0 + 2, 0], attributes: embeddingAttributes }, inRoot)
      .end([T0 + 2, 250_000_000]);
    const toolAttributes = {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4',
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 0,
    };
    tracer
      .startSpan('execute_tool search', { startTime: [T0 + 3, 0], attributes: toolAttributes }, inRoot)
      .end([T0 + 3, 5_000_000]);
    tracer.startSpan('GET /search', { startTime: [T0 + 3, 0] }, inRoot).end([T0 + 3, 1_000_000]);
    root.end([T0 + 4, 0]);
  });
}

/** Five GenAI spans that cannot become usage events, and one that can ("fine"). */
function rejections(): Promise<ReadableSpan[]> {
  const customer = { 'burnrate.customer_ref': 'acme' };
  const spans: Record<string, Attributes> = {
    'no customer': CHAT_ATTRIBUTES,
    negative: { ...CHAT_ATTRIBUTES, ...customer, 'gen_ai.usage.input_tokens': -5 },
    'string count': { ...CHAT_ATTRIBUTES, ...customer, 'gen_ai.usage.output_tokens': 'many' },
    'no model': { ...customer, 'gen_ai.provider.name': 'openai', 'gen_ai.usage.input_tokens': 10 },
    'absurd count': { ...CHAT_ATTRIBUTES, ...customer, 'gen_ai.usage.input_tokens': 2_000_000_000 },
    fine: { ...CHAT_ATTRIBUTES, ...customer },
  };
  return recordSpans({ 'service.name': 'batch-job' }, (tracer) => {
    for (const [name, attributes] of Object.entries(spans)) {
      tracer.startSpan(name, { startTime: [T0, 0], attributes }, ROOT_CONTEXT).end([T0, 1_000_000]);
    }
  });
}

/** One span whose customer is only on the resource (org.id), one with its own (tenant.id). */
function customers(): Promise<ReadableSpan[]> {
  return recordSpans({ 'service.name': 'svc', 'org.id': 'from-resource' }, (tracer) => {
    const at = { startTime: [T0, 0] as [number, number] };
    tracer.startSpan('resource', { ...at, attributes: CHAT_ATTRIBUTES }, ROOT_CONTEXT).end();
    tracer
      .startSpan(
        'span',
        { ...at, attributes: { ...CHAT_ATTRIBUTES, 'tenant.id': 'from-span' } },
        ROOT_CONTEXT,
      )
      .end();
  });
}

/**
 * Now, for the end-to-end test: one agent run (a trace) of customer `customer` — a root span and two
 * gpt-4o-mini chat calls under it — so the enricher accepts the events as current.
 */
export function liveRun(customer: string): Promise<ReadableSpan[]> {
  const resource = { 'service.name': 'py-support-bot', 'burnrate.customer_ref': customer };
  return recordSpans(resource, (tracer) => {
    const root = tracer.startSpan(
      'invoke_agent triage',
      { attributes: { 'burnrate.workflow': 'otel-triage' } },
      ROOT_CONTEXT,
    );
    const inRoot = trace.setSpan(ROOT_CONTEXT, root);
    for (let i = 0; i < 2; i++) {
      tracer
        .startSpan(
          'chat gpt-4o-mini',
          {
            attributes: {
              'gen_ai.operation.name': 'chat',
              'gen_ai.provider.name': 'openai',
              'gen_ai.request.model': 'gpt-4o-mini',
              'gen_ai.usage.input_tokens': 1_000_000,
              'gen_ai.usage.cache_read.input_tokens': 400_000,
              'gen_ai.usage.output_tokens': 100_000,
              'burnrate.workflow': 'otel-triage',
            },
          },
          inRoot,
        )
        .end();
    }
    root.end();
  });
}

/** The spans of each scenario, recorded afresh (new ids) on every call. */
export const SCENARIOS: Record<ScenarioName, () => Promise<ReadableSpan[]>> = {
  agent,
  rejections,
  customers,
  empty: async () => [],
};
