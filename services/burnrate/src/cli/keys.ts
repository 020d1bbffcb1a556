import { ValidationError } from '@burnrate/core';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { createKey, KEY_SCOPES, type KeyScope } from '../roles/api/keys.js';
import { type CliOutput, processOutput } from './kit/output.js';

const ABOUT = `
Makes an API key for the api role and prints it once, with the entry to add under \`keys:\` in the
file BURNRATE_KEYS_FILE names. The file holds only the key's SHA-256; the key itself is not kept
anywhere: hand it to the service and store it in your secret manager. The api role reads the keys
file again when it changes; no restart.`;

function fail(field: string, message: string): never {
  throw new ValidationError(field, message, 'invalid_argument');
}

interface KeyOptions {
  id: string;
  scopes: string;
  customers: string;
  service?: string;
}

/** `burnrate keys create`: output goes to stdout, so the key can be piped straight into a secret store. */
export function createKeysCommand(output: CliOutput = processOutput): Command {
  const keys = new Command('keys').description('make an API key for the api role');
  keys
    .command('create')
    .description('make a key and print it once, with its entry for BURNRATE_KEYS_FILE')
    .requiredOption(
      '--id <id>',
      'lower-case letters, digits and "-": names the key in logs (e.g. the service)',
    )
    .option('--scopes <list>', `what the key may do: ${KEY_SCOPES.join(',')}`, 'ingest')
    .option('--customers <refs>', 'the customer_refs it may send for and read budgets of; * = all', '*')
    .option('--service <name>', 'events sent with it must be from this service (filled in when absent)')
    .addHelpText('after', ABOUT)
    .action((o: KeyOptions) => output.out(createKeyText(o)));
  return keys;
}

function createKeyText(o: KeyOptions): string {
  if (!o.id) fail('--id', '--id is required: a name for the key, such as the service that will use it.');
  const scopes = o.scopes.split(',').map((s) => s.trim());
  for (const s of scopes) {
    if (!(KEY_SCOPES as readonly string[]).includes(s)) {
      fail('--scopes', `--scopes: "${s}" is not a scope (known: ${KEY_SCOPES.join(', ')}).`);
    }
  }
  const customers = o.customers
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (customers.length === 0) fail('--customers', '--customers needs at least one customer_ref, or *.');
  const { key, entry } = createKey({ id: o.id, scopes: scopes as KeyScope[], customers, service: o.service });
  return `API key (shown once; store it now):\n\n  ${key}\n\nAdd to BURNRATE_KEYS_FILE under keys:\n\n${stringify([entry]).replace(/^/gm, '  ')}\n`;
}
