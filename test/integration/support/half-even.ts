/** Independent of the domain code: round-half-even of price × n × days / cycleDays (docs/proration.md, "One line": its one rounding). */
export function prorated(price: number, quantity: number, days: number, cycleDays: number): number {
  const numerator = BigInt(price) * BigInt(quantity) * BigInt(days);
  const denominator = BigInt(cycleDays);
  const quotient = numerator / denominator;
  const twiceRemainder = (numerator % denominator) * 2n;
  const roundUp = twiceRemainder > denominator || (twiceRemainder === denominator && quotient % 2n === 1n);
  return Number(roundUp ? quotient + 1n : quotient);
}
