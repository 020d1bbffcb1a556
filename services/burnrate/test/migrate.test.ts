import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLED_MIGRATIONS } from '../src/clickhouse/bundled-migrations.js';
import { createClickHouseClient } from '../src/clickhouse/client.js';
import { migrate, readMigrationFiles, readMigrations } from '../src/clickhouse/migrate.js';

const client = createClickHouseClient({ kind: 'embedded', path: mkdtempSync(join(tmpdir(), 'br-mig-')) });
afterAll(() => client.close());

describe('ClickHouse migrations', () => {
  it('embed exactly the files of schemas/clickhouse (run `npm run schemas:bundle` when this fails)', () => {
    const files = readMigrationFiles(fileURLToPath(new URL('../../../schemas/clickhouse/', import.meta.url)));
    expect(files.map((f) => f.file)).toContain('0001_usage_events.sql');
    expect(BUNDLED_MIGRATIONS).toEqual(files);
  });

  it('apply once, then are a no-op', async () => {
    const all = readMigrations().map((m) => m.version);
    expect(await migrate(client, 'mig_test')).toEqual(all);
    expect(await migrate(client, 'mig_test')).toEqual([]);
    const rs = await client.query({
      query: 'SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name',
      query_params: { db: 'mig_test' },
      format: 'JSONEachRow',
    });
    const names = (await rs.json<{ name: string }>()).map((r) => r.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'usage_events',
        'dead_letters',
        'usage_hourly',
        'customer_period_cost',
        'customer_margin',
        'schema_migrations',
      ]),
    );
  });
});
