export default async function globalTeardown(): Promise<void> {
  await globalThis.__NCE_SERVICES__?.stop();
}
