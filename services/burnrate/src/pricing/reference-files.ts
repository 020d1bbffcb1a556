import { readFileSync } from 'node:fs';
import {
  BurnrateError,
  ConfigError,
  loadBundledCatalog,
  type PriceCatalog,
  PriceOverrides,
  parseCatalog,
} from '@burnrate/core';
import { parse as parseYaml } from 'yaml';

/** The reference data a fact is priced against: a catalog and per-customer overrides. */
export interface PricingReference {
  prices: PriceCatalog;
  overrides: PriceOverrides;
}

/**
 * Reads a catalog or overrides file: JSON when it ends in `.json`, otherwise YAML (which also reads
 * JSON). A missing or malformed file is a ConfigError naming the setting (or flag) and the file.
 */
export function readReferenceDocument(file: string, setting: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      setting,
      `${setting} names ${file}, which cannot be read: ${(error as Error).message}.`,
    );
  }
  try {
    return file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    const what = file.endsWith('.json') ? 'JSON' : 'YAML or JSON';
    throw new ConfigError(
      setting,
      `${setting} names ${file}, which is not ${what}: ${(error as Error).message.split('\n')[0]}.`,
    );
  }
}

/** Re-raises a validation error of a file's content as a ConfigError that also names the file. */
export function inFile<T>(file: string, setting: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof BurnrateError) || error instanceof ConfigError) throw error;
    const field = error.field ? ` (field ${error.field})` : '';
    throw new ConfigError(setting, `${setting} (${file})${field}: ${error.message}`);
  }
}

/** A validated price catalog from a file; invalid entries and overlapping windows are refused. */
export function loadCatalogFile(file: string, setting: string): PriceCatalog {
  return inFile(file, setting, () => parseCatalog(readReferenceDocument(file, setting)));
}

/** Validated per-customer price overrides from a YAML or JSON file. */
export function loadOverridesFile(file: string, setting: string): PriceOverrides {
  return inFile(file, setting, () => PriceOverrides.parse(readReferenceDocument(file, setting)));
}

/** Validates documents already read (e.g. from the prices topic), naming `where` on failure. */
export function parseReference(
  catalog: unknown,
  overrides: unknown,
  where: string,
  setting: string,
): PricingReference {
  return inFile(where, setting, () => ({
    prices: parseCatalog(catalog),
    overrides: overrides === null ? PriceOverrides.empty() : PriceOverrides.parse(overrides),
  }));
}

/**
 * The catalog and overrides named by flags, else by the configuration, else the bundled catalog and
 * no overrides — what the enricher loads when nothing has been published on the prices topic.
 */
export function loadReference(
  flags: { pricesFile?: string | undefined; overridesFile?: string | undefined },
  config: { BURNRATE_PRICES_FILE?: string | undefined; BURNRATE_OVERRIDES_FILE?: string | undefined },
): PricingReference {
  const prices = flags.pricesFile
    ? loadCatalogFile(flags.pricesFile, '--prices')
    : config.BURNRATE_PRICES_FILE
      ? loadCatalogFile(config.BURNRATE_PRICES_FILE, 'BURNRATE_PRICES_FILE')
      : loadBundledCatalog();
  const overrides = flags.overridesFile
    ? loadOverridesFile(flags.overridesFile, '--overrides')
    : config.BURNRATE_OVERRIDES_FILE
      ? loadOverridesFile(config.BURNRATE_OVERRIDES_FILE, 'BURNRATE_OVERRIDES_FILE')
      : PriceOverrides.empty();
  return { prices, overrides };
}
