import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The OpenTelemetry SDK and exporters run in a child Node process: vitest starts its workers with
 * `--conditions module` (from the `module` condition in vitest.config.ts), under which
 * require('@opentelemetry/api') loads the package's ESM build, whose extensionless imports Node
 * cannot resolve. The child (otlp-child.ts) runs with Node's default conditions, as a service would.
 */
const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./otlp-child.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../..', import.meta.url));

/** 2026-01-01T00:00:00Z, in seconds: span times in the scenarios are [seconds, nanoseconds] from here. */
export const T0 = 1_767_225_600;

export const SCENARIO_NAMES = ['agent', 'rejections', 'customers', 'empty'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** A span of a scenario as the SDK recorded it. */
export interface RecordedSpan {
  name: string;
  traceId: string;
  spanId: string;
}

/** A scenario's spans and the request bodies the official OTLP serializers make of them. */
export interface SerializedScenario {
  spans: RecordedSpan[];
  protobuf: Uint8Array;
  json: Uint8Array;
}

/** What the official exporter reported after exporting to `url`. */
export interface ExportOutcome {
  /** ExportResultCode: 0 success, 1 failed. */
  code: number;
  error: string | null;
  /** Messages the exporter logged through the OpenTelemetry diag logger at WARN and above. */
  warnings: string[];
}

async function child(args: string[]): Promise<unknown> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    cwd: REPO,
    env: { ...process.env, NODE_OPTIONS: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout);
}

/** Records every scenario with the official SDK and serializes it with the official serializers. */
export async function serializedScenarios(): Promise<Record<ScenarioName, SerializedScenario>> {
  const raw = (await child(['serialize'])) as Record<
    ScenarioName,
    { spans: RecordedSpan[]; protobuf: string; json: string }
  >;
  const out = {} as Record<ScenarioName, SerializedScenario>;
  for (const name of SCENARIO_NAMES) {
    const s = raw[name];
    out[name] = {
      spans: s.spans,
      protobuf: Buffer.from(s.protobuf, 'base64'),
      json: Buffer.from(s.json, 'base64'),
    };
  }
  return out;
}

/** Exports the `rejections` scenario with the official OTLP/HTTP exporter (protobuf or JSON) to url. */
export async function exportWithOfficialExporter(
  url: string,
  encoding: 'protobuf' | 'json',
): Promise<ExportOutcome> {
  return (await child(['export', url, encoding])) as ExportOutcome;
}

/** Exports one live agent run (two chat spans) of `customer` with the official exporter and a key. */
export async function exportLiveRun(
  url: string,
  encoding: 'protobuf' | 'json',
  key: string,
  customer: string,
): Promise<{ code: number; error: string | null; traceId: string; spanIds: string[] }> {
  return (await child(['export-live', url, encoding, key, customer])) as {
    code: number;
    error: string | null;
    traceId: string;
    spanIds: string[];
  };
}
