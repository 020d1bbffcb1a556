/**
 * Runs the OpenTelemetry SDK, serializers and exporters for the OTLP tests in a plain Node process
 * (see otlp-harness.ts for why). `serialize`: prints every scenario's spans and request bodies as
 * JSON. `export URL protobuf|json`: exports the rejections scenario with the official OTLP/HTTP
 * exporter and prints its result and the warnings it logged.
 */
import { DiagLogLevel, diag } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { liveRun, SCENARIOS } from './otlp-fixtures.js';
import { type ExportOutcome, SCENARIO_NAMES } from './otlp-harness.js';

const base64 = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('base64');

async function serialize(): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const name of SCENARIO_NAMES) {
    const spans = await SCENARIOS[name]();
    out[name] = {
      spans: spans.map((s) => ({
        name: s.name,
        traceId: s.spanContext().traceId,
        spanId: s.spanContext().spanId,
      })),
      protobuf: base64(ProtobufTraceSerializer.serializeRequest(spans)),
      json: base64(JsonTraceSerializer.serializeRequest(spans)),
    };
  }
  return out;
}

async function exportTo(url: string, encoding: string): Promise<ExportOutcome> {
  const warnings: string[] = [];
  const log = (message: string, ...args: unknown[]) => warnings.push([message, ...args].join(' '));
  const ignore = () => {};
  diag.setLogger({ error: log, warn: log, info: ignore, debug: ignore, verbose: ignore }, DiagLogLevel.WARN);
  const exporter = encoding === 'json' ? new JsonExporter({ url }) : new ProtobufExporter({ url });
  const spans = await SCENARIOS.rejections();
  const result = await new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));
  await exporter.shutdown();
  return { code: result.code, error: result.error?.message ?? null, warnings };
}

/** Exports one live agent run with the official exporter and an API key; prints its trace id too. */
async function exportLive(url: string, encoding: string, key: string, customer: string) {
  const headers = { authorization: `Bearer ${key}` };
  const exporter =
    encoding === 'json' ? new JsonExporter({ url, headers }) : new ProtobufExporter({ url, headers });
  const spans = await liveRun(customer);
  const result = await new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));
  await exporter.shutdown();
  return {
    code: result.code,
    error: result.error?.message ?? null,
    traceId: spans[0]!.spanContext().traceId,
    spanIds: spans.filter((s) => s.name.startsWith('chat')).map((s) => s.spanContext().spanId),
  };
}

const [mode, url, encoding, key, customer] = process.argv.slice(2);
const output =
  mode === 'export'
    ? await exportTo(url!, encoding!)
    : mode === 'export-live'
      ? await exportLive(url!, encoding!, key!, customer!)
      : await serialize();
process.stdout.write(JSON.stringify(output));
