import { readFileSync } from 'node:fs';
import type { PriceCatalog } from './catalog.js';
import { parseCatalog } from './parse.js';

/**
 * The curated catalog shipped with @burnrate/core. src/ and dist/ sit at the same depth under the
 * package, so this relative URL resolves from the sources and from the build alike.
 */
export const BUNDLED_CATALOG_URL = new URL('../../catalog/prices.json', import.meta.url);

/** Reads and validates the bundled catalog; call once at boot. */
export function loadBundledCatalog(): PriceCatalog {
  return parseCatalog(JSON.parse(readFileSync(BUNDLED_CATALOG_URL, 'utf8')));
}
