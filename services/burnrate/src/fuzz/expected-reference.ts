import { CustomerTable, parseCustomerRecord } from '@burnrate/core';
import { loadReference } from '../pricing/reference-files.js';
import { FUZZ_CUSTOMERS } from './base-events.js';
import type { Reference } from './oracle.js';
import { TARGET_LIMITS } from './target.js';

/** The reference data the process under test enriches with: the bundled catalog and the fuzz customers. */
export function fuzzReference(): Reference {
  const { prices, overrides } = loadReference({}, {});
  return {
    prices,
    overrides,
    customers: CustomerTable.from(FUZZ_CUSTOMERS.map((c) => parseCustomerRecord(c))),
    lateHorizonMs: TARGET_LIMITS.lateHorizonMs,
    maxFutureSkewMs: TARGET_LIMITS.maxFutureSkewMs,
  };
}
