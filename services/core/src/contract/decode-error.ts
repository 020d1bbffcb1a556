import { BurnrateError } from '../errors.js';

/**
 * - `undecodable`: the bytes are not a usage event: wrong magic, truncated, trailing bytes, or a
 *   body that does not decode under its writer schema.
 * - `unknown_schema`: the framing is fine but names a schema fingerprint (or Confluent schema id)
 *   that this build does not bundle; a newer producer may be ahead of this consumer.
 */
export type DecodeErrorCode = 'undecodable' | 'unknown_schema';

export interface DecodeErrorOptions {
  cause?: unknown;
  /** Writer schema fingerprint from the message header, 16 hex digits, when it could be read. */
  fingerprint?: string;
  /** Confluent schema id from the message header, when the message used that framing. */
  schemaId?: number;
  /** The field whose bytes do not decode, when the decoder can tell (e.g. a string that is not UTF-8). */
  field?: string;
}

/**
 * Bytes from a topic could not be turned into a usage event. Never retriable: the same bytes fail
 * the same way, so the message goes to the dead-letter topic with this code as its reason.
 */
export class DecodeError extends BurnrateError {
  declare readonly code: DecodeErrorCode;
  readonly fingerprint: string | undefined;
  readonly schemaId: number | undefined;

  constructor(code: DecodeErrorCode, message: string, options: DecodeErrorOptions = {}) {
    super(code, message, {
      cause: options.cause,
      retriable: false,
      ...(options.field === undefined ? {} : { field: options.field }),
    });
    this.fingerprint = options.fingerprint;
    this.schemaId = options.schemaId;
  }
}
