import { BurnrateError } from '@burnrate/core';

/**
 * ClickHouse error codes that mean "these rows are wrong" (retrying the same rows cannot succeed).
 * Everything else — connection refused, timeouts, 5xx, TOO_MANY_PARTS, memory limits — is retriable.
 */
const DATA_ERROR_CODES = new Set([
  '6', // CANNOT_PARSE_TEXT
  '26', // CANNOT_PARSE_QUOTED_STRING
  '27', // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  '38', // CANNOT_PARSE_DATE
  '41', // CANNOT_PARSE_DATETIME
  '53', // TYPE_MISMATCH
  '69', // ARGUMENT_OUT_OF_BOUND
  '70', // CANNOT_CONVERT_TYPE
  '72', // CANNOT_PARSE_NUMBER
  '117', // INCORRECT_DATA
  '321', // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
  '349', // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
  '376', // CANNOT_PARSE_UUID
]);

/**
 * Codes that mean "this server will not take this statement from us, whatever the rows": wrong
 * credentials or grants, a missing database, table or column. Retrying cannot help and bisecting the
 * rows would dead-letter good data, so the role stops and says which setting to check.
 */
const REFUSED_CODES = new Map([
  ['16', 'a column is missing (NO_SUCH_COLUMN_IN_TABLE): run `burnrate migrate`'],
  ['47', 'an identifier is unknown (UNKNOWN_IDENTIFIER): run `burnrate migrate`'],
  ['60', 'the table does not exist (UNKNOWN_TABLE): run `burnrate migrate` or check CLICKHOUSE_DATABASE'],
  ['81', 'the database does not exist (UNKNOWN_DATABASE): check CLICKHOUSE_DATABASE'],
  ['164', 'the user is read-only (READONLY): check CLICKHOUSE_USER'],
  ['192', 'the user is unknown (UNKNOWN_USER): check CLICKHOUSE_USER'],
  ['193', 'the password is wrong (WRONG_PASSWORD): check CLICKHOUSE_PASSWORD'],
  ['497', 'the user lacks a grant (ACCESS_DENIED): check CLICKHOUSE_USER'],
  ['516', 'authentication failed (AUTHENTICATION_FAILED): check CLICKHOUSE_USER and CLICKHOUSE_PASSWORD'],
]);

/** Classifies an error from @clickhouse/client (server or chDB) once, by its code. */
export function classifyClickHouseError(error: unknown, what: string): BurnrateError {
  if (error instanceof BurnrateError) return error;
  const code = (error as { code?: unknown })?.code;
  const type = (error as { type?: unknown })?.type;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && DATA_ERROR_CODES.has(code)) {
    return new BurnrateError('clickhouse_rejected_rows', `ClickHouse rejected ${what}: ${message}`, {
      cause: error,
    });
  }
  const refused = typeof code === 'string' ? REFUSED_CODES.get(code) : undefined;
  if (refused) {
    return new BurnrateError('clickhouse_refused', `ClickHouse refused ${what}: ${refused}. (${message})`, {
      cause: error,
    });
  }
  const kind = typeof type === 'string' ? type : typeof code === 'string' ? code : 'unavailable';
  return new BurnrateError(
    'clickhouse_unavailable',
    `ClickHouse could not complete ${what} (${kind}): ${message}`,
    {
      retriable: true,
      cause: error,
    },
  );
}
