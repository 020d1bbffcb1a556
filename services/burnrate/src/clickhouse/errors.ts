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
