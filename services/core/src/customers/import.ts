import { ValidationError } from '../errors.js';
import { parseCsv } from './csv.js';
import { parseCustomerRecord } from './record.js';
import type { CustomerRecord } from './types.js';

/** A customer import file is invalid; `line` (1-based) and `field` say where. */
export class CustomerImportError extends ValidationError {
  readonly line: number;

  constructor(line: number, field: string, message: string) {
    super(field, message, 'invalid_customer');
    this.line = line;
  }
}

export type CustomerImportFormat = 'jsonl' | 'csv';

/** CSV columns: the record's fields, with the plan's flattened to `plan_*`. */
export const CUSTOMER_CSV_COLUMNS = [
  'customer_ref',
  'customer_id',
  'name',
  'team',
  'plan_kind',
  'plan_revenue_nanos',
  'plan_currency',
  'plan_period',
  'monthly_budget_nanos',
  'billing_anchor_day',
  'valid_from',
  'valid_to',
] as const;

function atLine<T>(line: number, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ValidationError)
      throw new CustomerImportError(line, error.field ?? 'record', error.message);
    throw error;
  }
}

function parseJsonLines(text: string): CustomerRecord[] {
  const records: CustomerRecord[] = [];
  text.split(/\r?\n/).forEach((content, i) => {
    const line = i + 1;
    if (content.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(content);
    } catch {
      throw new CustomerImportError(line, 'record', `Line ${line}: record is not valid JSON.`);
    }
    records.push(atLine(line, () => parseCustomerRecord(value, { where: `Line ${line}` })));
  });
  return records;
}

function parseCsvFile(text: string): CustomerRecord[] {
  const rows = parseCsv(text.startsWith('\uFEFF') ? text.slice(1) : text);
  if (!Array.isArray(rows))
    throw new CustomerImportError(rows.line, 'record', `Line ${rows.line}: ${rows.error}.`);
  const [header, ...body] = rows;
  if (!header) return [];
  const columns = header.cells.map((cell) => cell.trim());
  for (const column of columns) {
    if (!(CUSTOMER_CSV_COLUMNS as readonly string[]).includes(column)) {
      throw new CustomerImportError(
        header.line,
        column,
        `Line ${header.line}: column "${column}" is not a customer field.`,
      );
    }
  }
  return body.map(({ line, cells }) => {
    if (cells.length !== columns.length) {
      throw new CustomerImportError(
        line,
        'record',
        `Line ${line}: row has ${cells.length} cells but the header has ${columns.length}.`,
      );
    }
    const record: Record<string, unknown> = {};
    const plan: Record<string, unknown> = {};
    columns.forEach((column, i) => {
      const cell = cells[i]!.trim();
      if (cell === '') return;
      // Numbers stay strings: the record parser accepts integer strings, and BigInt needs them.
      const value = column === 'billing_anchor_day' && /^\d+$/.test(cell) ? Number(cell) : cell;
      if (column.startsWith('plan_')) plan[column.slice('plan_'.length)] = value;
      else record[column] = value;
    });
    record.plan = plan;
    return atLine(line, () => parseCustomerRecord(record, { where: `Line ${line}`, separator: '_' }));
  });
}

/**
 * Parses a customer import file: JSON lines (one record per line in the JSON shape of
 * customerRecordToJson) or CSV with a header naming columns from CUSTOMER_CSV_COLUMNS.
 * @throws CustomerImportError naming the line and field of the first problem.
 */
export function parseCustomerImport(text: string, format: CustomerImportFormat): CustomerRecord[] {
  return format === 'jsonl' ? parseJsonLines(text) : parseCsvFile(text);
}
