import { parseArgs } from 'node:util';
import { ValidationError } from '@burnrate/core';
import { stringify } from 'yaml';
import { createKey, KEY_SCOPES, type KeyScope } from '../roles/api/keys.js';

export const KEYS_USAGE = `usage: burnrate keys create --id <id> [--scopes ingest,budget,forecast] [--customers <ref,...>|*] [--service <name>]

Makes an API key for the api role and prints it once, with the entry to add under \`keys:\` in the
file BURNRATE_KEYS_FILE names. The file holds only the key's SHA-256; the key itself is not kept
anywhere: hand it to the service and store it in your secret manager.

  --id         lower-case letters, digits and "-": names the key in logs (e.g. the service)
  --scopes     what the key may do (default: ingest)
  --customers  the customer_refs it may send for and read budgets of; * = all (default: *)
  --service    events sent with it must be from this service (filled in when absent)

The api role reads the keys file again when it changes; no restart.
`;

function fail(field: string, message: string): never {
  throw new ValidationError(field, message, 'invalid_argument');
}

/** `burnrate keys …`: output goes to `out` (stdout), so the key can be piped straight into a secret store. */
export function keysCommand(
  argv: string[],
  out: (text: string) => void = (t) => process.stdout.write(t),
): number {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help') {
    out(KEYS_USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'create') fail('command', `burnrate keys has no command "${sub}"; see burnrate keys help.`);
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        id: { type: 'string' },
        scopes: { type: 'string', default: 'ingest' },
        customers: { type: 'string', default: '*' },
        service: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail('arguments', `${(error as Error).message}; see burnrate keys help.`);
  }
  if (!values.id) fail('--id', '--id is required: a name for the key, such as the service that will use it.');
  const scopes = values.scopes!.split(',').map((s) => s.trim());
  for (const s of scopes) {
    if (!(KEY_SCOPES as readonly string[]).includes(s)) {
      fail('--scopes', `--scopes: "${s}" is not a scope (known: ${KEY_SCOPES.join(', ')}).`);
    }
  }
  const customers = values
    .customers!.split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (customers.length === 0) fail('--customers', '--customers needs at least one customer_ref, or *.');
  const { key, entry } = createKey({
    id: values.id,
    scopes: scopes as KeyScope[],
    customers,
    service: values.service,
  });
  out(
    `API key (shown once; store it now):\n\n  ${key}\n\nAdd to BURNRATE_KEYS_FILE under keys:\n\n${stringify([entry]).replace(/^/gm, '  ')}\n`,
  );
  return 0;
}
