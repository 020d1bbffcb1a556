import type { Session } from 'chdb';
import { ClickHouseException, CODES } from './errors.js';
import { stringLiteral, type Token, tokens } from './sql-scan.js';

/**
 * chDB runs as clickhouse-local, where readonly=1 still lets a query read any host file with the
 * file() scalar function and write one with INTO OUTFILE (a ClickHouse server forbids both over
 * HTTP). For read-only users the engine's own parser first rewrites the query into canonical single
 * -line form — which also refuses multi-statements, as ClickHouse's HTTP interface does — and the
 * canonical text, free of comments and odd quoting, is checked for those constructs.
 */
const HOST_FUNCTIONS = new Set(['file', 'catboostEvaluate', 'eval']);

export async function assertReadonlySafe(session: Session, sql: string): Promise<void> {
  const result = await session.queryAsync(`SELECT formatQuerySingleLine(${stringLiteral(sql)})`, {
    format: 'RawBLOB',
  });
  checkCanonicalQuery(result.text());
}

/** Throws when the canonical query writes a file or calls a function that reaches the host. */
export function checkCanonicalQuery(canonical: string): void {
  let previous: Token | undefined;
  for (const token of tokens(canonical)) {
    const isName = token.kind === 'word' || token.kind === 'quoted';
    if (previous?.kind === 'word' && previous.text.toUpperCase() === 'INTO' && isName) {
      if (token.text.toUpperCase() === 'OUTFILE') {
        throw new ClickHouseException(CODES.INTO_OUTFILE_NOT_ALLOWED, 'INTO OUTFILE is not allowed');
      }
    }
    if (token.kind === 'symbol' && token.text === '(' && previous && isFunctionName(previous)) {
      throw new ClickHouseException(
        CODES.ACCESS_DENIED,
        `Not enough privileges. A read-only user cannot call ${previous.text}(), which reaches the server's host`,
      );
    }
    previous = token;
  }
}

function isFunctionName(token: Token): boolean {
  return (token.kind === 'word' || token.kind === 'quoted') && HOST_FUNCTIONS.has(token.text);
}
