/**
 * Every error burnrate raises on purpose carries a stable `code` and says whether retrying the same
 * operation can succeed. Adapters classify foreign errors once, at the boundary, into these.
 */
export interface BurnrateErrorOptions {
  retriable?: boolean;
  /** The event field or configuration setting at fault, when there is one. */
  field?: string;
  cause?: unknown;
}

export class BurnrateError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly field: string | undefined;

  constructor(code: string, message: string, options: BurnrateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.field = options.field;
  }
}

/** A usage event (or one of its fields) is not acceptable. Never retriable. */
export class ValidationError extends BurnrateError {
  constructor(field: string, message: string, code = 'invalid_event') {
    super(code, message, { field });
  }
}

/** A configuration setting is missing or malformed; raised at boot. */
export class ConfigError extends BurnrateError {
  constructor(setting: string, message: string) {
    super('invalid_config', message, { field: setting });
  }
}

export function isRetriable(error: unknown): boolean {
  return error instanceof BurnrateError && error.retriable;
}
