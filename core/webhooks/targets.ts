import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { DomainError } from '../errors';

/**
 * Webhook targets must be public: a URL resolving to a private, loopback, link-local or otherwise
 * internal address would let a client make Easel call into the platform's own network. Checked at
 * submit (a clear 400) and again before each delivery (the name may resolve differently later).
 */
const BLOCKED_V4: Array<[string, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

function v4ToInt(address: string): number {
  return address.split('.').reduce((acc, part) => (acc << 8) + Number(part), 0) >>> 0;
}

export function isPrivateAddress(address: string): boolean {
  if (net.isIPv4(address)) {
    const ip = v4ToInt(address);
    return BLOCKED_V4.some(([base, bits]) => {
      const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
      return (ip & mask) === (v4ToInt(base) & mask);
    });
  }
  const lower = address.toLowerCase();
  const mapped = lower.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/);
  if (mapped) return isPrivateAddress(mapped[1]!);
  return (
    lower === '::' ||
    lower === '::1' ||
    lower.startsWith('fc') ||
    lower.startsWith('fd') ||
    /^fe[89ab]/.test(lower) ||
    lower.startsWith('ff')
  );
}

export class WebhookTargetRefused extends DomainError {
  constructor(url: string, reason: string) {
    super(
      'webhook_url_refused',
      `webhook_url ${url} is refused: ${reason}. Use a publicly reachable https URL.`,
      { fields: { webhook_url: reason } },
    );
  }
}

export async function checkWebhookTarget(url: string, allowPrivate: boolean): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WebhookTargetRefused(url, 'not a URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new WebhookTargetRefused(url, 'only http(s) is allowed');
  if (parsed.username || parsed.password)
    throw new WebhookTargetRefused(url, 'credentials in the URL are not allowed');
  if (allowPrivate) return;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = net.isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    throw new WebhookTargetRefused(url, `its host ${host} does not resolve`);
  }
  const internal = addresses.find(isPrivateAddress);
  if (internal)
    throw new WebhookTargetRefused(url, `its host resolves to the private or loopback address ${internal}`);
}
