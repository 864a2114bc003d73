import { EncryptionCodec, parsePayloadKeys } from '../../platform/payload-codec';

/**
 * Secrets every Easel the tests start shares — its in-process roles, the Easel processes a test
 * spawns, and the history recorder (so that the replay test can read the histories it records).
 */
export const METRICS_TOKEN = 'test-metrics-token-0123456789';
export const IMAGE_URL_SECRET = 'test-image-url-secret-0123456789abcdef';
export const TEST_PAYLOAD_KEYS = 'test-2026-12:t8QbZrDpsxhbN2E0Uv1mu0OvUsljdLnlUjRxgKD/wnI=';

export const testPayloadCodec = (): EncryptionCodec =>
  new EncryptionCodec(parsePayloadKeys(TEST_PAYLOAD_KEYS));
