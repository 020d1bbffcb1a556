import { formatNanosAsUsd } from '../money/nanos.js';
import type { Money } from './types.js';

/** An exact amount for an API answer: nanos as a decimal string, USD for people. */
export function toMoney(nanos: bigint): Money {
  return { nanos: nanos.toString(), usd: formatNanosAsUsd(nanos) };
}
