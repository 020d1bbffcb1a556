/** Options for one column of a text table. */
export interface Column {
  title: string;
  /** Longer cells are cut to this many characters, ending in `…`. Unlimited by default. */
  maxChars?: number;
  /** Numbers read better right-aligned. */
  alignRight?: boolean;
}

/** One line, at most `maxChars` characters (code points), so a cell cannot break the layout. */
function cell(value: string, maxChars: number): string {
  const flat = value.replace(/\s+/g, ' ').trim();
  const chars = [...flat];
  return chars.length <= maxChars ? flat : `${chars.slice(0, Math.max(0, maxChars - 1)).join('')}…`;
}

const width = (text: string) => [...text].length;

/** A plain aligned table: a header row, then one row per item, columns two spaces apart. */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const cells = rows.map((row) =>
    columns.map((c, i) => cell(row[i] ?? '', c.maxChars ?? Number.POSITIVE_INFINITY)),
  );
  const widths = columns.map((c, i) => Math.max(width(c.title), ...cells.map((r) => width(r[i]!))));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => {
        const pad = ' '.repeat(widths[i]! - width(v));
        return columns[i]!.alignRight ? pad + v : v + pad;
      })
      .join('  ')
      .trimEnd();
  return `${[line(columns.map((c) => c.title)), ...cells.map(line)].join('\n')}\n`;
}
