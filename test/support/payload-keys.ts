import { EncryptionCodec, parsePayloadKeys } from '../../platform/payload-codec';

/**
 * EASEL_PAYLOAD_KEYS of every Easel the tests start (in process and as child processes) and of
 * the history recorder, so that the replay test can read the histories it records.
 */
export const TEST_PAYLOAD_KEYS = 'test-2026-12:t8QbZrDpsxhbN2E0Uv1mu0OvUsljdLnlUjRxgKD/wnI=';

export const testPayloadCodec = (): EncryptionCodec =>
  new EncryptionCodec(parsePayloadKeys(TEST_PAYLOAD_KEYS));
