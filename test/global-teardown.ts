export default async function globalTeardown(): Promise<void> {
  await globalThis.__EASEL_DEV_STACK__?.stop();
}
