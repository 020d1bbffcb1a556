import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOtlpTraceMapper, type OtlpBatch } from '../../src/roles/api/otlp/mapper.js';
import { ExportTraceServiceResponse, pbInt64 } from '../../src/roles/api/otlp/proto.js';
import { exportWithOfficialExporter } from './otlp-harness.js';

const mapper = createOtlpTraceMapper({
  customerAttributes: ['burnrate.customer_ref'],
  workflowAttributes: ['burnrate.workflow', 'gen_ai.agent.name'],
});

describe('the ExportTraceServiceResponse', () => {
  it('in protobuf has partial_success only when spans were rejected', () => {
    const none = mapper.response('protobuf', 0, '');
    expect(none).toHaveLength(0); // every field unset: the empty message
    expect(ExportTraceServiceResponse.decode(none).partialSuccess).toBeNull();

    const some = ExportTraceServiceResponse.decode(mapper.response('protobuf', 3, '3 span(s) rejected'));
    expect(pbInt64(some.partialSuccess?.rejectedSpans)).toBe(3n);
    expect(some.partialSuccess?.errorMessage).toBe('3 span(s) rejected');
  });

  it('in JSON uses the OTLP field names', () => {
    const text = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));
    expect(text(mapper.response('json', 0, 'unused'))).toEqual({});
    expect(text(mapper.response('json', 2, 'why'))).toEqual({
      partialSuccess: { rejectedSpans: 2, errorMessage: 'why' },
    });
  });
});

describe('a round trip with the official OTLP/HTTP exporters', () => {
  const seen: Array<{ contentType: string | undefined; batch: OtlpBatch }> = [];
  let server: Server;
  let base: string;

  beforeAll(async () => {
    // What the api role does, minus auth and Kafka: decode, map, answer with partial_success.
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const encoding = req.headers['content-type'] === 'application/json' ? 'json' : 'protobuf';
        const batch = mapper.map(Buffer.concat(chunks), encoding);
        seen.push({ contentType: req.headers['content-type'], batch });
        const first = batch.rejected[0];
        const answer = mapper.response(
          encoding,
          batch.rejected.length,
          first ? `${first.field}: ${first.message}` : '',
        );
        res.writeHead(200, { 'Content-Type': req.headers['content-type'] ?? '' }).end(answer);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.each([
    ['protobuf', 'application/x-protobuf'],
    ['json', 'application/json'],
  ] as const)(
    'decodes what the %s exporter sends and the exporter reads the partial success',
    async (encoding, type) => {
      seen.length = 0;
      const outcome = await exportWithOfficialExporter(`${base}/v1/traces`, encoding);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.contentType).toBe(type);
      expect(seen[0]!.batch.events).toHaveLength(1);
      expect(seen[0]!.batch.rejected.map((r) => r.field).sort()).toEqual([
        'burnrate.customer_ref',
        'gen_ai.usage.input_tokens',
        'gen_ai.usage.output_tokens',
        'model',
        'tokens.input',
      ]);
      expect(outcome.code).toBe(0);
      expect(outcome.error).toBeNull();
      const partial = outcome.warnings.find((w) => w.startsWith('Received Partial Success response:'));
      expect(partial).toBeDefined();
      expect(JSON.parse(partial!.slice('Received Partial Success response:'.length))).toMatchObject({
        rejectedSpans: 5,
        errorMessage: expect.stringMatching(/^[a-z_.]+: /),
      });
    },
  );
});
