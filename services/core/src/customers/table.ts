import { type EffectiveWindow, instantMs, windowContains } from '../reference/effective.js';
import { type CustomerMatch, type CustomerRecord, type MappedCustomer, unmappedCustomer } from './types.js';

/** What enrichment needs from customer reference data. */
export interface CustomerDirectory {
  lookup(customerRef: string, occurredAtMs: number): CustomerMatch;
}

interface Version {
  readonly customer: MappedCustomer;
  readonly window: EffectiveWindow;
}

function windowOf(record: CustomerRecord): EffectiveWindow {
  const fromMs = instantMs(record.valid_from);
  const toMs = record.valid_to === null ? Number.POSITIVE_INFINITY : instantMs(record.valid_to);
  if (fromMs === undefined || toMs === undefined || toMs <= fromMs) {
    throw new RangeError(`Customer record "${record.customer_ref}" has an invalid validity window.`);
  }
  return { fromMs, toMs };
}

/**
 * Customer records by ref, each ref with its effective-dated versions. A version is identified by
 * (customer_ref, valid_from) — the same identity as the Kafka key of the compacted `customers`
 * topic — so replaying the topic into upsert/remove rebuilds the same table.
 *
 * Versions of one ref may overlap: where they do, the one that starts latest wins. A new plan can
 * therefore be published from its start date without first closing the old one.
 */
export class CustomerTable implements CustomerDirectory {
  private readonly byRef = new Map<string, Version[]>();

  static from(records: Iterable<CustomerRecord>): CustomerTable {
    const table = new CustomerTable();
    for (const record of records) table.upsert(record);
    return table;
  }

  /** Adds a version, replacing one with the same ref and valid_from. Records must be validated. */
  upsert(record: CustomerRecord): void {
    const window = windowOf(record);
    const version: Version = { customer: Object.freeze({ ...record, unmapped: false as const }), window };
    const versions = this.byRef.get(record.customer_ref) ?? [];
    const kept = versions.filter((existing) => existing.window.fromMs !== window.fromMs);
    kept.push(version);
    // Latest start first, so lookup takes the first window that contains the event.
    kept.sort((a, b) => b.window.fromMs - a.window.fromMs);
    this.byRef.set(record.customer_ref, kept);
  }

  /** Drops the version starting at `validFrom` (a tombstone on the customers topic). */
  remove(customerRef: string, validFrom: string): boolean {
    const fromMs = instantMs(validFrom);
    const versions = this.byRef.get(customerRef);
    if (!versions || fromMs === undefined) return false;
    const kept = versions.filter((existing) => existing.window.fromMs !== fromMs);
    if (kept.length === 0) this.byRef.delete(customerRef);
    else this.byRef.set(customerRef, kept);
    return kept.length !== versions.length;
  }

  /** The record in force for `customerRef` at `occurredAtMs`, or the `unmapped:<ref>` attribution. */
  lookup(customerRef: string, occurredAtMs: number): CustomerMatch {
    const versions = this.byRef.get(customerRef);
    const found = versions?.find((version) => windowContains(version.window, occurredAtMs));
    return found ? found.customer : unmappedCustomer(customerRef);
  }

  /** Number of record versions held. */
  get size(): number {
    let total = 0;
    for (const versions of this.byRef.values()) total += versions.length;
    return total;
  }

  /** Every version, by ref and then by start. */
  *records(): IterableIterator<CustomerRecord> {
    for (const versions of this.byRef.values()) {
      for (const { customer } of [...versions].reverse()) {
        const { unmapped: _unmapped, ...record } = customer;
        yield record;
      }
    }
  }
}
