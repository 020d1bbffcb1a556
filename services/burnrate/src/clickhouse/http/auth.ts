import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ConfigError } from '@burnrate/core';
import { ClickHouseException, CODES } from './errors.js';

export interface HttpUser {
  name: string;
  password: string;
  /** A read-only user runs every query with the engine's readonly=1 and cannot change data or tables. */
  readonly: boolean;
}

export interface Credentials {
  name: string;
  password: string;
}

/**
 * Where ClickHouse looks for credentials, in its order: X-ClickHouse-User / X-ClickHouse-Key
 * headers, HTTP Basic, then the user / password URL parameters; none means user `default`.
 */
export function credentialsOf(request: IncomingMessage, url: URL): Credentials {
  const headerUser = request.headers['x-clickhouse-user'];
  if (typeof headerUser === 'string') {
    const key = request.headers['x-clickhouse-key'];
    return { name: headerUser, password: typeof key === 'string' ? key : '' };
  }
  const authorization = request.headers.authorization;
  if (authorization?.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1
      ? { name: decoded, password: '' }
      : { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return {
    name: url.searchParams.get('user') ?? 'default',
    password: url.searchParams.get('password') ?? '',
  };
}

export interface Authenticator {
  authenticate(credentials: Credentials): HttpUser;
}

export function createAuthenticator(users: readonly HttpUser[]): Authenticator {
  const byName = new Map<string, HttpUser>();
  for (const user of users) {
    if (byName.has(user.name)) {
      throw new ConfigError('users', `The ClickHouse HTTP user '${user.name}' is configured twice.`);
    }
    byName.set(user.name, user);
  }
  return {
    authenticate(credentials) {
      const user = byName.get(credentials.name);
      // Compare digests so the time taken says nothing about the password's length or prefix.
      if (user && timingSafeEqual(digest(user.password), digest(credentials.password))) return user;
      throw new ClickHouseException(
        CODES.AUTHENTICATION_FAILED,
        `${credentials.name}: Authentication failed: password is incorrect, or there is no user with such name`,
      );
    },
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
