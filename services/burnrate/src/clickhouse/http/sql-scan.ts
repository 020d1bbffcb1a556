/**
 * Just enough of ClickHouse's lexer (src/Parsers/Lexer.cpp) to find a statement's leading keyword
 * and its top-level FORMAT clause without being fooled by strings, quoted names or comments. The
 * engine still parses every query; these answers only choose how the result is sent back.
 */

export interface Token {
  kind: 'word' | 'quoted' | 'string' | 'symbol';
  /** Words as written; quoted identifiers and strings without their quotes (escapes left as is). */
  text: string;
  /** Bracket depth at the token, 0 at the top level of the statement. */
  depth: number;
}

export function* tokens(sql: string): Generator<Token> {
  let i = 0;
  let depth = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (
      (c === '-' && sql[i + 1] === '-') ||
      (c === '#' && (sql[i + 1] === ' ' || sql[i + 1] === '!'))
    ) {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      i = skipBlockComment(sql, i);
    } else if (c === "'" || c === '"' || c === '`') {
      const end = quotedEnd(sql, i, c);
      yield { kind: c === "'" ? 'string' : 'quoted', text: sql.slice(i + 1, end - 1), depth };
      i = end;
    } else if (c === '$' && heredocTag(sql, i) !== undefined) {
      const tag = heredocTag(sql, i)!;
      const close = sql.indexOf(tag, i + tag.length);
      const end = close === -1 ? n : close + tag.length;
      yield { kind: 'string', text: sql.slice(i + tag.length, close === -1 ? n : close), depth };
      i = end;
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < n && /[A-Za-z0-9_$]/.test(sql[i]!)) i++;
      yield { kind: 'word', text: sql.slice(start, i), depth };
    } else if (/[0-9]/.test(c)) {
      while (i < n && /[0-9A-Za-z_.]/.test(sql[i]!)) i++;
    } else {
      if (c === ')' || c === ']' || c === '}') depth = Math.max(0, depth - 1);
      yield { kind: 'symbol', text: c, depth };
      if (c === '(' || c === '[' || c === '{') depth++;
      i++;
    }
  }
}

/** ClickHouse allows nested block comments; an unterminated one runs to the end. */
function skipBlockComment(sql: string, start: number): number {
  let nesting = 0;
  let i = start;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      nesting++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      nesting--;
      i += 2;
      if (nesting === 0) return i;
    } else {
      i++;
    }
  }
  return sql.length;
}

/** Index just past the closing quote; a backslash escapes the next character, a doubled quote is one quote. */
function quotedEnd(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (c === '\\') i += 2;
    else if (c === quote && sql[i + 1] === quote) i += 2;
    else if (c === quote) return i + 1;
    else i++;
  }
  return sql.length;
}

/** `$$` or `$tag$` opens a heredoc string. */
function heredocTag(sql: string, start: number): string | undefined {
  const match = /^\$[A-Za-z0-9_]*\$/.exec(sql.slice(start, start + 64));
  return match?.[0];
}

/** The statement's first keyword upper-cased, `(` for a parenthesised query, '' for an empty one. */
export function leadingKeyword(sql: string): string {
  for (const token of tokens(sql)) return token.kind === 'word' ? token.text.toUpperCase() : token.text;
  return '';
}

/** Every `FORMAT <name>` at the top level of the statement, names as written. */
export function formatClauses(sql: string): string[] {
  const found: string[] = [];
  let previous: Token | undefined;
  for (const token of tokens(sql)) {
    if (
      previous?.kind === 'word' &&
      previous.depth === 0 &&
      previous.text.toUpperCase() === 'FORMAT' &&
      (token.kind === 'word' || token.kind === 'quoted')
    ) {
      found.push(token.text);
    }
    previous = token;
  }
  return found;
}

/** A ClickHouse string literal, for the SET statements this server writes: only `\` and `'` need escaping. */
export function stringLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A backquoted identifier. */
export function identifier(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}
