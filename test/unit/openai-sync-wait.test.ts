import type { Request } from 'express';
import { DEFAULT_SYNC_WAIT_MS, syncWaitFor } from '../../api/routes/openai';
import { parseEnvironment } from '../../platform/config';

const request = (headers: Record<string, string>): Request =>
  ({ header: (name: string) => headers[name.toLowerCase()] }) as unknown as Request;

describe('the synchronous wait of the OpenAI-compatible routes', () => {
  it('is EASEL_SYNC_WAIT_SECONDS, five minutes by default', () => {
    expect(parseEnvironment({}).EASEL_SYNC_WAIT_SECONDS * 1000).toBe(DEFAULT_SYNC_WAIT_MS);
    expect(parseEnvironment({ EASEL_SYNC_WAIT_SECONDS: '20' }).EASEL_SYNC_WAIT_SECONDS).toBe(20);
    expect(() => parseEnvironment({ EASEL_SYNC_WAIT_SECONDS: '0' })).toThrow(/EASEL_SYNC_WAIT_SECONDS/);
  });

  it('ends before the timeout a client announces, so that its 504 arrives before the client retries', () => {
    expect(syncWaitFor(request({}), 300_000)).toBe(300_000);
    // The Node client's X-Stainless-Timeout and the Python client's X-Stainless-Read-Timeout.
    expect(syncWaitFor(request({ 'x-stainless-timeout': '60' }), 300_000)).toBe(58_000);
    expect(syncWaitFor(request({ 'x-stainless-read-timeout': '8.0' }), 300_000)).toBe(6_000);
    expect(syncWaitFor(request({ 'x-stainless-timeout': '600' }), 300_000)).toBe(300_000);
    expect(syncWaitFor(request({ 'x-stainless-timeout': '1' }), 300_000)).toBe(1_000);
    expect(syncWaitFor(request({ 'x-stainless-timeout': 'soon' }), 300_000)).toBe(300_000);
  });
});
