import { ValidationError } from '../errors.js';
import { compareDecimal, parseDecimal } from '../money/decimal.js';
import { type EffectiveWindow, findOverlap, windowContains } from '../reference/effective.js';
import { Fields } from '../reference/fields.js';
import { normalizeModel, normalizeProvider } from './normalize.js';
import { readSchedule } from './parse.js';
import type { PriceSchedule } from './types.js';

interface OverrideBase {
  /** Unique and stable: it is part of the price_version of every fact it priced. */
  id: string;
  /** The burnrate customer id (not the ref), so every ref mapped to the customer gets the deal. */
  customer_id: string;
  /** Normalized provider, or null for all providers. */
  provider: string | null;
  /** Model (canonical catalog name or exact event model), or null for every model of the provider. */
  model: string | null;
  valid_from: string;
  valid_to: string | null;
}

/** A negotiated discount: an exact fraction in [0, 1] taken off every bucket and fee. */
export interface DiscountOverride extends OverrideBase {
  kind: 'discount';
  discount: string;
}

/** A contracted price that replaces the catalog's schedule for one model. */
export interface PriceScheduleOverride extends OverrideBase {
  kind: 'price';
  prices: PriceSchedule;
}

/** Bring-your-own-key: the customer pays the provider, so the cost to us is zero — but known. */
export interface ByokOverride extends OverrideBase {
  kind: 'byok';
}

export type PriceOverride = DiscountOverride | PriceScheduleOverride | ByokOverride;

interface Indexed {
  readonly override: PriceOverride;
  readonly window: EffectiveWindow;
  readonly provider: string | null;
  readonly model: string | null;
}

const CODE = 'invalid_override';
const ONE = { units: 1n, scale: 0 };
const KEYS = [
  'id',
  'customer_id',
  'kind',
  'provider',
  'model',
  'valid_from',
  'valid_to',
  'discount',
  'prices',
  'notes',
];

function readOverride(raw: unknown, index: number): Indexed {
  const path = `overrides[${index}]`;
  const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
  const where = `Price override ${typeof id === 'string' ? `"${id}" ` : ''}(${path})`;
  const fields = Fields.of(raw, where, path, CODE);
  fields.onlyKeys(KEYS);
  const window = fields.window();
  const kind = fields.oneOf('kind', ['discount', 'price', 'byok'] as const);
  const provider = fields.optionalString('provider');
  const model = fields.optionalString('model');
  if (provider !== null && normalizeProvider(provider) !== provider) {
    fields.fail('provider', `must be written normalized, as "${normalizeProvider(provider)}"`);
  }
  if (model !== null && provider === null) fields.fail('provider', 'is required when model is given');
  if (kind === 'price' && model === null) fields.fail('model', 'is required for a price override');
  if (kind !== 'discount' && fields.has('discount'))
    fields.fail('discount', `is only allowed for kind discount`);
  if (kind !== 'price' && fields.has('prices')) fields.fail('prices', `is only allowed for kind price`);
  const base: OverrideBase = {
    id: fields.string('id'),
    customer_id: fields.string('customer_id'),
    provider,
    model,
    valid_from: fields.string('valid_from'),
    valid_to: fields.optionalString('valid_to'),
  };
  let override: PriceOverride;
  if (kind === 'discount') {
    const discount = fields.decimal('discount');
    if (compareDecimal(parseDecimal(discount, fields.name('discount')), ONE) > 0)
      fields.fail('discount', `must be a fraction from 0 to 1, got "${discount}"`);
    override = { ...base, kind, discount };
  } else if (kind === 'price') {
    override = { ...base, kind, prices: readSchedule(fields.nested('prices'), where, `${path}.prices`) };
  } else {
    override = { ...base, kind };
  }
  return { override, window, provider, model: model === null ? null : normalizeModel(model) };
}

/**
 * Per-customer price overrides, effective-dated like prices. For one event at most one override
 * applies, the most specific: exact event model, then canonical catalog model, then provider-wide,
 * then customer-wide. Overrides never stack; overlapping windows with the same scope are rejected.
 */
export class PriceOverrides {
  readonly version: string;
  readonly overrides: readonly PriceOverride[];
  private readonly byCustomer = new Map<string, Indexed[]>();

  private constructor(version: string, indexed: Indexed[]) {
    this.version = version;
    this.overrides = indexed.map((item) => item.override);
    const scopes = new Map<string, Indexed[]>();
    for (const item of indexed) {
      const { customer_id } = item.override;
      const scope = `${customer_id}\u0000${item.provider ?? '*'}\u0000${item.model ?? '*'}`;
      scopes.set(scope, [...(scopes.get(scope) ?? []), item]);
      this.byCustomer.set(customer_id, [...(this.byCustomer.get(customer_id) ?? []), item]);
    }
    const ids = new Set<string>();
    indexed.forEach((item, i) => {
      if (ids.has(item.override.id)) {
        throw new ValidationError(
          `overrides[${i}].id`,
          `Price override id "${item.override.id}" is used twice.`,
          CODE,
        );
      }
      ids.add(item.override.id);
    });
    for (const group of scopes.values()) {
      const overlap = findOverlap(group);
      if (!overlap) continue;
      const [a, b] = overlap;
      const i = indexed.indexOf(b);
      throw new ValidationError(
        `overrides[${i}].valid_from`,
        `Price override "${b.override.id}" (overrides[${i}]): valid_from overlaps override "${a.override.id}" with the same customer, provider and model.`,
        CODE,
      );
    }
  }

  /** No overrides at all, for deployments without negotiated prices. */
  static empty(version = 'none'): PriceOverrides {
    return new PriceOverrides(version, []);
  }

  /**
   * Validates a parsed overrides file `{ version, overrides: [...] }`.
   * @throws ValidationError (code `invalid_override`) naming the override and field at fault.
   */
  static parse(value: unknown): PriceOverrides {
    const file = Fields.of(value, 'Price overrides', '', CODE);
    file.onlyKeys(['version', 'description', 'overrides']);
    const version = file.string('version');
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(version))
      file.fail('version', "must be 1–64 letters, digits, '.', '_' or '-'");
    return new PriceOverrides(version, file.list('overrides').map(readOverride));
  }

  /**
   * The override for one event, or undefined.
   * @param canonicalModel the matched catalog entry's model, when there is one.
   */
  find(
    customerId: string,
    provider: string,
    model: string,
    canonicalModel: string | undefined,
    occurredAtMs: number,
  ): PriceOverride | undefined {
    const candidates = this.byCustomer.get(customerId);
    if (!candidates) return undefined;
    const normalizedProvider = normalizeProvider(provider);
    const eventModel = normalizeModel(model);
    const catalogModel = canonicalModel === undefined ? undefined : normalizeModel(canonicalModel);
    let best: Indexed | undefined;
    let bestRank = 0;
    for (const item of candidates) {
      if (!windowContains(item.window, occurredAtMs)) continue;
      if (item.provider !== null && item.provider !== normalizedProvider) continue;
      const rank =
        item.provider === null
          ? 1
          : item.model === null
            ? 2
            : item.model === eventModel
              ? 4
              : item.model === catalogModel
                ? 3
                : 0;
      if (rank > bestRank) {
        best = item;
        bestRank = rank;
      }
    }
    return best?.override;
  }
}
