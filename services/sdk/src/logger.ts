/** The subset of a pino logger the SDK writes to: (object, message) on four levels. */
export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const noop = () => {};

/** A library must not write to stdout on its own: without a logger it is silent. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
