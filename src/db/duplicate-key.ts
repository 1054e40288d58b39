/**
 * True for MongoDB's duplicate-key error (11000): the insert that used an id as its idempotency key found it taken.
 * For an unordered bulk insert, true only when every failed document was a duplicate (the others were inserted).
 */
export function isDuplicateKeyError(error: unknown): boolean {
  const failure = error as { code?: number; writeErrors?: Array<{ code?: number; err?: { code?: number } }> } | null | undefined;
  if (failure?.writeErrors?.length) return failure.writeErrors.every((writeError) => (writeError.code ?? writeError.err?.code) === 11000);
  return failure?.code === 11000;
}
