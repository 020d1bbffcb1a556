import { readFileSync } from 'node:fs';
import { BurnrateError, ConfigError, ValidationError } from '@burnrate/core';
import { Command } from 'commander';
import { type Config, loadConfig } from '../config/load.js';
import { httpUrl } from '../runtime/http-url.js';
import { type CliOutput, type Column, processOutput, renderTable, toJson } from './kit/output.js';

interface JsonCompact {
  meta: Array<{ name: string; type: string }>;
  data: unknown[][];
}

const NUMERIC = /^(Nullable\()?(U?Int|Float|Decimal)/;

/**
 * `burnrate sql "<query>"`: one query through the ClickHouse HTTP interface (the embedded one the
 * clickhouse role serves, or CLICKHOUSE_URL) as the read-only analyst user, printed as a table.
 */
export function createSqlCommand(output: CliOutput = processOutput): Command {
  return new Command('sql')
    .description('run a query as the read-only analyst user and print the result as a table')
    .argument('[query]', 'the SQL text (or use --file)')
    .option('-f, --file <path>', 'read the query from this file')
    .option('--json', 'print {columns, rows}; 64-bit integers as strings')
    .action(async (text: string | undefined, o: { file?: string; json?: boolean }) => {
      const query = queryText(text, o.file);
      const result = await runQuery(loadConfig(), query);
      if (typeof result === 'string') {
        output.out(result.endsWith('\n') || result === '' ? result : `${result}\n`);
      } else if (o.json) {
        output.out(toJson({ columns: result.meta, rows: result.data }));
      } else {
        output.out(resultTable(result));
      }
    });
}

function queryText(text: string | undefined, file: string | undefined): string {
  if (text !== undefined && file !== undefined) {
    throw new ValidationError(
      '--file',
      'Give the query either as an argument or with --file, not both.',
      'invalid_argument',
    );
  }
  let query = text;
  if (file !== undefined) {
    try {
      query = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ValidationError(
        '--file',
        `--file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): give the path of a file holding one query.`,
        'invalid_argument',
      );
    }
  }
  if (!query?.trim()) {
    throw new ValidationError(
      'query',
      'No query given: pass it in quotes, e.g. burnrate sql "SELECT 1", or with --file.',
      'invalid_argument',
    );
  }
  return query;
}

/** Where the HTTP interface is and the setting that says so. */
export function sqlEndpoint(config: Config): { url: URL; setting: string } {
  if (config.CLICKHOUSE_URL) return { url: new URL(config.CLICKHOUSE_URL), setting: 'CLICKHOUSE_URL' };
  return {
    url: new URL(`${httpUrl(config.CLICKHOUSE_HTTP_HOST, config.CLICKHOUSE_HTTP_PORT)}/`),
    setting: 'CLICKHOUSE_HTTP_HOST and CLICKHOUSE_HTTP_PORT',
  };
}

/** The parsed JSONCompact result, or the raw text when the query chose its own FORMAT. */
async function runQuery(config: Config, query: string): Promise<JsonCompact | string> {
  const { url, setting } = sqlEndpoint(config);
  url.searchParams.set('database', config.CLICKHOUSE_DATABASE);
  url.searchParams.set('default_format', 'JSONCompact');
  url.searchParams.set('output_format_json_quote_64bit_integers', '1');
  const auth = Buffer.from(
    `${config.CLICKHOUSE_ANALYST_USER}:${config.CLICKHOUSE_ANALYST_PASSWORD}`,
  ).toString('base64');
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      body: query,
      headers: { authorization: `Basic ${auth}`, 'content-type': 'text/plain; charset=utf-8' },
      signal: AbortSignal.timeout(120_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new ConfigError(
      setting,
      `The ClickHouse HTTP interface at ${url.host} cannot be reached (${cause}): start burnrate with the clickhouse role or fix ${setting}.`,
    );
  }
  const body = await response.text();
  if (!response.ok) {
    throw new BurnrateError('query_failed', `ClickHouse refused the query: ${oneLine(body)}`, {
      field: 'query',
    });
  }
  try {
    const parsed = JSON.parse(body) as JsonCompact;
    if (Array.isArray(parsed.meta) && Array.isArray(parsed.data)) return parsed;
  } catch {}
  return body;
}

/** ClickHouse's error text on one line, without the server version and stack. */
function oneLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.replace(/\s*\(version [^)]*\)\s*$/, '').replace(/\.?$/, '.');
}

function resultTable(result: JsonCompact): string {
  if (result.data.length === 0) return `0 rows (${result.meta.map((m) => m.name).join(', ')}).\n`;
  const columns: Column[] = result.meta.map((m) => ({
    title: m.name,
    align: NUMERIC.test(m.type) ? 'right' : 'left',
    maxChars: 80,
  }));
  const rows = result.data.map((row) =>
    row.map((v) => (v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v))),
  );
  return `${renderTable(columns, rows)}\n${rows.length} row${rows.length === 1 ? '' : 's'}\n`;
}
