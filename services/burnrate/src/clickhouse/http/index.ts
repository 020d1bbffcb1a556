export type { HttpUser } from './auth.js';
export type { HttpLogger } from './query-handler.js';
export {
  type ClickHouseHttpServer,
  type ClickHouseHttpServerOptions,
  createClickHouseHttpServer,
} from './server.js';
