import { ValidationError } from '../errors.js';
import { type EffectiveWindow, findOverlap, instantMs, windowContains } from '../reference/effective.js';
import { compileSchedule } from './compile.js';
import { normalizeModel, normalizeProvider } from './normalize.js';
import type { PriceEntry } from './types.js';

interface Indexed {
  readonly entry: PriceEntry;
  readonly window: EffectiveWindow;
  readonly regex: RegExp | null;
}

/** Catalog versions and ids become price_version `<version>:<id>`, so neither may contain '+'. */
const VERSION_TEXT = /^[A-Za-z0-9._-]{1,64}$/;
export const ENTRY_ID_TEXT = /^[A-Za-z0-9._/@:-]{1,200}$/;
/** Distinct model names whose pattern matches are remembered; unknown names beyond it just re-test. */
const PATTERN_MEMO_LIMIT = 10_000;

function fail(index: number, entry: PriceEntry, key: string, problem: string): never {
  throw new ValidationError(
    `entries[${index}].${key}`,
    `Price entry "${entry.id}" (entries[${index}]): ${key} ${problem}.`,
    'invalid_catalog',
  );
}

/**
 * A versioned, validated set of price entries with effective-dated lookup. Immutable: a new price
 * is a new catalog version, and every fact records which version priced it.
 */
export class PriceCatalog {
  readonly version: string;
  readonly entries: readonly PriceEntry[];
  private readonly byName = new Map<string, Indexed[]>();
  private readonly patternsByProvider = new Map<string, Indexed[]>();
  private readonly rawMemo = new Map<string, Indexed[]>();

  /** @throws ValidationError naming the entry and field: bad ids, windows, rates, patterns or overlaps. */
  constructor(version: string, entries: readonly PriceEntry[]) {
    if (!VERSION_TEXT.test(version)) {
      throw new ValidationError(
        'version',
        `Catalog version must be 1–64 letters, digits, '.', '_' or '-', got "${version}".`,
        'invalid_catalog',
      );
    }
    this.version = version;
    this.entries = entries;
    const ids = new Set<string>();
    const patternGroups = new Map<string, Indexed[]>();
    entries.forEach((entry, i) => {
      if (!ENTRY_ID_TEXT.test(entry.id)) fail(i, entry, 'id', 'must be 1–200 letters, digits or . _ / @ : -');
      if (ids.has(entry.id)) fail(i, entry, 'id', 'is used by another entry');
      ids.add(entry.id);
      if (normalizeProvider(entry.provider) !== entry.provider) {
        fail(i, entry, 'provider', `must be written normalized, as "${normalizeProvider(entry.provider)}"`);
      }
      const fromMs = instantMs(entry.valid_from);
      const toMs = entry.valid_to === null ? Number.POSITIVE_INFINITY : instantMs(entry.valid_to);
      if (fromMs === undefined) fail(i, entry, 'valid_from', 'must be an ISO-8601 date or zoned date-time');
      if (toMs === undefined) fail(i, entry, 'valid_to', 'must be an ISO-8601 date or zoned date-time');
      if (toMs <= fromMs) fail(i, entry, 'valid_to', 'must be later than valid_from');
      compileSchedule(entry, `entries[${i}]`, `Price entry "${entry.id}" (entries[${i}])`);
      const indexed: Indexed = { entry, window: { fromMs, toMs }, regex: this.compilePattern(i, entry) };
      const names = new Set([entry.model, ...entry.aliases].map(normalizeModel));
      for (const name of names) this.push(this.byName, `${entry.provider}\u0000${name}`, indexed);
      if (indexed.regex) {
        this.push(this.patternsByProvider, entry.provider, indexed);
        this.push(patternGroups, `${entry.provider}\u0000${entry.pattern}`, indexed);
      }
    });
    for (const [key, group] of [...this.byName, ...patternGroups]) {
      const overlap = findOverlap(group);
      if (!overlap) continue;
      const [a, b] = overlap;
      const i = entries.indexOf(b.entry);
      const what = key.split('\u0000')[1];
      fail(
        i,
        b.entry,
        'valid_from',
        `overlaps entry "${a.entry.id}" for the same provider and model or pattern "${what}"`,
      );
    }
    for (const group of this.byName.values()) group.sort((a, b) => b.window.fromMs - a.window.fromMs);
  }

  /**
   * The entry that prices `model` at `provider` for an event at `occurredAtMs`: an exact model or
   * alias first; only names no entry lists are tried against patterns, in catalog order. A listed
   * name outside all its windows is unpriced rather than priced by a pattern meant for other names.
   * @returns undefined when nothing matches — the caller books the fact as unpriced, never as $0.
   */
  lookup(provider: string, model: string, occurredAtMs: number): PriceEntry | undefined {
    // Events repeat a handful of (provider, model) spellings: remember their candidates as sent.
    const raw = `${provider.length}:${provider}${model}`;
    let candidates = this.rawMemo.get(raw);
    if (!candidates) {
      candidates = this.candidates(provider, model);
      if (this.rawMemo.size >= PATTERN_MEMO_LIMIT) this.rawMemo.clear();
      this.rawMemo.set(raw, candidates);
    }
    return candidates.find((item) => windowContains(item.window, occurredAtMs))?.entry;
  }

  /** Entries that may price `model` at `provider`, newest window first (time is checked by lookup). */
  private candidates(provider: string, model: string): Indexed[] {
    const normalizedProvider = normalizeProvider(provider);
    const name = normalizeModel(model);
    const key = `${normalizedProvider}\u0000${name}`;
    const exact = this.byName.get(key);
    if (exact) return exact;
    const patterns = this.patternsByProvider.get(normalizedProvider) ?? [];
    return patterns.filter((item) => item.regex!.test(name));
  }

  /** The price_version a fact priced by `entry` records: `<catalog version>:<entry id>`. */
  priceVersion(entry: PriceEntry): string {
    return `${this.version}:${entry.id}`;
  }

  private compilePattern(i: number, entry: PriceEntry): RegExp | null {
    if (entry.pattern === null) return null;
    if (!entry.pattern.startsWith('^') || !entry.pattern.endsWith('$') || entry.pattern.endsWith('\\$')) {
      fail(i, entry, 'pattern', 'must be anchored, starting with ^ and ending with $');
    }
    try {
      // Wrapping keeps an alternation such as ^a|b$ anchored at both ends; names match case-insensitively.
      return new RegExp(`^(?:${entry.pattern})$`, 'i');
    } catch (error) {
      return fail(i, entry, 'pattern', `is not a valid regular expression (${(error as Error).message})`);
    }
  }

  private push<K>(map: Map<K, Indexed[]>, key: K, item: Indexed): void {
    const list = map.get(key);
    if (list) list.push(item);
    else map.set(key, [item]);
  }
}
