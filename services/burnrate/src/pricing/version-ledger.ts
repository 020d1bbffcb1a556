import { catalogDigest, overridesDigest } from '@burnrate/core';
import type { PricingReference } from './reference-files.js';

/** A catalog and overrides as published on the prices topic, with the digests of their content. */
export interface PublishedReference extends PricingReference {
  /** `<catalog version>+<overrides version>#<catalog digest>.<overrides digest>`. */
  key: string;
  /** Digests of the normalised content (see catalogDigest): formatting does not change them. */
  catalogDigest: string;
  overridesDigest: string;
}

export function describeReference(reference: PricingReference): PublishedReference {
  const catalog = catalogDigest(reference.prices);
  const overrides = overridesDigest(reference.overrides);
  return {
    ...reference,
    catalogDigest: catalog,
    overridesDigest: overrides,
    key: `${reference.prices.version}+${reference.overrides.version}#${catalog}.${overrides}`,
  };
}

interface Owner {
  digest: string;
  key: string;
}

/**
 * Which content each catalog (and overrides) version names: the content of the FIRST record in topic
 * order that was applied with it. The prices topic is never compacted or expired, so topic order is
 * permanent and every follower — running, restarted or started years later — reads the same first
 * record: a version means one content everywhere, forever, and a later record cannot change what an
 * already-used version means. A later record with the same version and other content is ignored.
 * Records that were not applied (invalid, or in conflict) claim nothing.
 */
export class VersionLedger {
  private readonly catalogs = new Map<string, Owner>();
  private readonly overrides = new Map<string, Owner>();

  /** Why `next` may not be applied (its version names other content), or undefined. */
  conflict(next: PublishedReference): string | undefined {
    const catalog = this.catalogs.get(next.prices.version);
    if (catalog !== undefined && catalog.digest !== next.catalogDigest) {
      return `catalog version ${next.prices.version} was published before with different prices (content ${catalog.digest}, first in record ${catalog.key}; this record has content ${next.catalogDigest}): give the new catalog a new version`;
    }
    const overrides = this.overrides.get(next.overrides.version);
    if (overrides !== undefined && overrides.digest !== next.overridesDigest) {
      return `overrides version ${next.overrides.version} was published before with different overrides (content ${overrides.digest}, first in record ${overrides.key}; this record has content ${next.overridesDigest}): give the new file a new version`;
    }
    return undefined;
  }

  /** Notes an applied record: its versions now name its content, unless they already named it. */
  claim(next: PublishedReference): void {
    if (!this.catalogs.has(next.prices.version))
      this.catalogs.set(next.prices.version, { digest: next.catalogDigest, key: next.key });
    if (!this.overrides.has(next.overrides.version))
      this.overrides.set(next.overrides.version, { digest: next.overridesDigest, key: next.key });
  }
}

/** What became of a record offered to PublishedPrices. */
export type Offer = { outcome: 'applied'; changed: boolean } | { outcome: 'conflict'; reason: string };

/**
 * The record in force on the prices topic: the last record, in topic order, that does not conflict
 * with the first record of its versions (VersionLedger). Offer every valid record once, in topic
 * order; offering an old record again would make it the last (which is what a roll-back publication
 * means), so a follower must skip offsets it has already applied.
 */
export class PublishedPrices {
  readonly ledger = new VersionLedger();
  private current: PublishedReference | undefined;

  /** The record in force; undefined until a valid record has been applied. */
  get inForce(): PublishedReference | undefined {
    return this.current;
  }

  offer(next: PublishedReference): Offer {
    const reason = this.ledger.conflict(next);
    if (reason !== undefined) return { outcome: 'conflict', reason };
    this.ledger.claim(next);
    const changed = this.current?.key !== next.key;
    this.current = next;
    return { outcome: 'applied', changed };
  }
}
