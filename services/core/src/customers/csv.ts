export interface CsvRow {
  /** 1-based line number where the row starts in the text. */
  line: number;
  cells: string[];
}

/**
 * Splits RFC 4180 CSV text into rows: quoted cells may hold commas, doubled quotes and line
 * breaks; CRLF and LF both end a row; blank lines are skipped.
 * @returns rows, or a string describing the first syntax error and its line.
 */
export function parseCsv(text: string): CsvRow[] | { error: string; line: number } {
  const rows: CsvRow[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let cellWasQuoted = false;
  let line = 1;
  let rowLine = 1;
  const endRow = () => {
    cells.push(cell);
    if (cells.length > 1 || cells[0] !== '' || cellWasQuoted) rows.push({ line: rowLine, cells });
    cells = [];
    cell = '';
    cellWasQuoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') {
        quoted = false;
        const next = text[i + 1];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          return { error: 'a closing quote must be followed by a comma or the end of the line', line };
        }
      } else {
        if (char === '\n') line++;
        cell += char;
      }
    } else if (char === '"' && cell === '') {
      quoted = true;
      cellWasQuoted = true;
    } else if (char === '"') {
      return { error: 'a quote may only open a cell', line };
    } else if (char === ',') {
      cells.push(cell);
      cell = '';
      cellWasQuoted = false;
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      cell += char;
    }
  }
  if (quoted) return { error: 'a quoted cell is not closed', line: rowLine };
  if (cell !== '' || cells.length > 0 || cellWasQuoted) endRow();
  return rows;
}
