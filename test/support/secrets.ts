/** Secrets every test Easel shares: its in-process roles and the Easel processes a test spawns. */
export const METRICS_TOKEN = 'test-metrics-token-0123456789';
export const IMAGE_URL_SECRET = 'test-image-url-secret-0123456789abcdef';
