/**
 * A local-stack problem the user can fix. The message is one sentence saying what is wrong and what
 * to do; `detail` carries supporting text such as the tail of a broker log.
 */
export class StackError extends Error {
  readonly code: string;
  readonly detail: string | undefined;

  constructor(code: string, message: string, detail?: string) {
    super(message);
    this.name = 'StackError';
    this.code = code;
    this.detail = detail;
  }
}

/** Formats a StackError (or anything else) for a terminal, without a stack trace for known problems. */
export function describeStackFailure(error: unknown): string {
  if (error instanceof StackError) {
    return error.detail ? `${error.message}\n${error.detail}` : error.message;
  }
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
