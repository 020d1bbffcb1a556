import { BurnrateError } from '@burnrate/core';

/**
 * The ClickHouse exception codes this server raises itself (numbers and names as in ClickHouse's
 * src/Common/ErrorCodes.cpp, checked against the engine's errorCodeToName()).
 */
export const CODES = {
  UNSUPPORTED_METHOD: 1,
  CANNOT_READ_ALL_DATA: 33,
  BAD_ARGUMENTS: 36,
  TOO_LARGE_SIZE_COMPRESSED: 39,
  CHECKSUM_DOESNT_MATCH: 40,
  NOT_IMPLEMENTED: 48,
  SYNTAX_ERROR: 62,
  UNKNOWN_COMPRESSION_METHOD: 89,
  UNKNOWN_SETTING: 115,
  READONLY: 164,
  TOO_MANY_SIMULTANEOUS_QUERIES: 202,
  QUERY_IS_TOO_LARGE: 229,
  CANNOT_DECOMPRESS: 271,
  SESSION_NOT_FOUND: 372,
  SESSION_IS_LOCKED: 373,
  INVALID_SESSION_TIMEOUT: 374,
  INTO_OUTFILE_NOT_ALLOWED: 358,
  QUERY_WAS_CANCELLED: 394,
  ACCESS_DENIED: 497,
  AUTHENTICATION_FAILED: 516,
  UNSUPPORTED_MEDIA_TYPE: 779,
  UNKNOWN_EXCEPTION: 1002,
} as const;

const OWN_NAMES = new Map<number, string>(Object.entries(CODES).map(([name, code]) => [code, name]));

/** A ClickHouse exception to send to the client: the numeric code is what clients and status mapping use. */
export class ClickHouseException extends BurnrateError {
  readonly exceptionCode: number;

  constructor(
    exceptionCode: number,
    message: string,
    options: { cause?: unknown; retriable?: boolean } = {},
  ) {
    super('clickhouse_exception', message, { retriable: options.retriable ?? false, cause: options.cause });
    this.exceptionCode = exceptionCode;
  }
}

/**
 * Classifies anything thrown while serving a request, once: chDB errors carry the engine's code in
 * `clickhouseCode`; our own are already ClickHouseExceptions; anything else is UNKNOWN_EXCEPTION.
 */
export function toClickHouseException(error: unknown): ClickHouseException {
  if (error instanceof ClickHouseException) return error;
  const code = engineCodeOf(error) ?? CODES.UNKNOWN_EXCEPTION;
  return new ClickHouseException(code, reasonOf(messageOf(error)), { cause: error });
}

function engineCodeOf(error: unknown): number | undefined {
  const code = (error as { clickhouseCode?: unknown } | null)?.clickhouseCode;
  if (typeof code === 'number') return code;
  // chDB's stream errors (CHDB_STREAM) drop clickhouseCode and keep only the engine's text, whose
  // leading "Code: N." is ClickHouse's own wire form of the code — the one place it exists.
  if ((error as { code?: unknown } | null)?.code !== 'CHDB_STREAM') return undefined;
  const match = /^Code: (\d+)\./.exec(messageOf(error));
  return match ? Number(match[1]) : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The engine's text wrapped by chDB can repeat "Code: N. DB::Exception:" and "(NAME) (version …)"
 * several times; keep the sentence once so the body reads like a ClickHouse server's.
 */
export function reasonOf(message: string): string {
  let text = message.trim();
  for (;;) {
    const next = text
      .replace(/^Code: \d+\. DB::Exception: /, '')
      .replace(/\s*\(version [^()]*(?:\([^()]*\)[^()]*)?\)\.?$/, '')
      .replace(/\s*\([A-Z][A-Z0-9_]*\)\.?$/, '')
      .trim();
    if (next === text) break;
    text = next;
  }
  return text.replace(/\.$/, '');
}

/** Looks up a code's name: our own table first, then the engine's (loaded once at start). */
export type CodeNames = (code: number) => string;

export function codeNamesFrom(engineNames: ReadonlyMap<number, string>): CodeNames {
  return (code) => engineNames.get(code) ?? OWN_NAMES.get(code) ?? 'UNKNOWN_EXCEPTION';
}

/** `Code: 60. DB::Exception: <reason>. (UNKNOWN_TABLE) (version 26.7.2.1)` — the server's text form. */
export function formatException(error: ClickHouseException, names: CodeNames, version: string): string {
  const name = names(error.exceptionCode);
  return `Code: ${error.exceptionCode}. DB::Exception: ${error.message}. (${name}) (version ${version})\n`;
}

/** HTTP statuses by exception name, transcribed from ClickHouse's exceptionCodeToHTTPStatus.cpp. */
const STATUS_BY_NAME = new Map<string, number>([
  ['REQUIRED_PASSWORD', 401],
  ...names(403, 'UNKNOWN_USER WRONG_PASSWORD AUTHENTICATION_FAILED SET_NON_GRANTED_ROLE ACCESS_DENIED'),
  ...names(
    400,
    'BAD_ARGUMENTS CANNOT_COMPILE_REGEXP CANNOT_PARSE_TEXT CANNOT_PARSE_ESCAPE_SEQUENCE CANNOT_PARSE_QUOTED_STRING ' +
      'CANNOT_PARSE_DATE CANNOT_PARSE_DATETIME CANNOT_PARSE_NUMBER CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING ' +
      'CANNOT_PARSE_IPV4 CANNOT_PARSE_IPV6 CANNOT_PARSE_INPUT_ASSERTION_FAILED CANNOT_PARSE_UUID DUPLICATE_COLUMN ' +
      'ILLEGAL_COLUMN UNKNOWN_ELEMENT_IN_AST UNKNOWN_TYPE_OF_AST_NODE THERE_IS_NO_COLUMN TOO_DEEP_AST TOO_BIG_AST ' +
      'UNEXPECTED_AST_STRUCTURE SYNTAX_ERROR INCORRECT_DATA TYPE_MISMATCH VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
  ),
  ...names(
    404,
    'UNKNOWN_TABLE UNKNOWN_FUNCTION UNKNOWN_IDENTIFIER UNKNOWN_TYPE UNKNOWN_STORAGE UNKNOWN_DATABASE UNKNOWN_SETTING ' +
      'UNKNOWN_DIRECTION_OF_SORTING UNKNOWN_AGGREGATE_FUNCTION UNKNOWN_FORMAT UNKNOWN_DATABASE_ENGINE ' +
      'UNKNOWN_TYPE_OF_QUERY UNKNOWN_ROLE',
  ),
  ['QUERY_IS_TOO_LARGE', 413],
  ['NOT_IMPLEMENTED', 501],
  ...names(503, 'SOCKET_TIMEOUT CANNOT_OPEN_FILE CANNOT_SCHEDULE_TASK'),
  ['HTTP_LENGTH_REQUIRED', 411],
  ['TIMEOUT_EXCEEDED', 408],
  ['UNSUPPORTED_MEDIA_TYPE', 415],
]);

function names(status: number, list: string): Array<[string, number]> {
  return list.split(' ').map((name) => [name, status]);
}

/** ClickHouse answers 500 for every code it does not map (READONLY included). */
export function httpStatusOf(code: number, codeNames: CodeNames): number {
  return STATUS_BY_NAME.get(codeNames(code)) ?? 500;
}
