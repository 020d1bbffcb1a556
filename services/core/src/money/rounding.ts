/**
 * The one rounding rule of burnrate's money: an exact rational amount is rounded to the nearest
 * integer, ties to the even neighbour ("banker's rounding"). Half-even has no upward bias, so
 * millions of rounded bucket costs sum to the unrounded total within noise instead of drifting up.
 */
export function divRoundHalfEven(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError('divRoundHalfEven needs a positive denominator');
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  let quotient = magnitude / denominator;
  const twiceRemainder = (magnitude % denominator) * 2n;
  if (twiceRemainder > denominator || (twiceRemainder === denominator && quotient % 2n === 1n)) {
    quotient += 1n;
  }
  return negative ? -quotient : quotient;
}
