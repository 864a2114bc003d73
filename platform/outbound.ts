import { lookup } from 'node:dns/promises';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector, fetch as undiciFetch, type Dispatcher } from 'undici';

/**
 * The one policy for requests Easel makes on a tenant's behalf: webhook deliveries, downloads of
 * upstream results, the polling URLs an upstream hands out. OWASP's SSRF guidance, applied where
 * it cannot be raced:
 *
 * - The address is checked at connect time, on the address actually connected to. The dispatcher
 *   resolves the name once, refuses it if any answer is not public, connects to that very address
 *   (SNI and certificate checks still use the name) and checks the socket's peer again, so a name
 *   that answers public to a check and private to the connection (DNS rebinding) gets nowhere.
 * - "Public" is ipaddr.js's `unicast` range (loopback, RFC 1918, link-local and the metadata
 *   address 169.254.169.254, CGNAT, multicast, 0/8, unique-local fc00::/7 with AWS's fd00:ec2::254,
 *   site-local fec0::/10, Teredo, documentation and reserved ranges are not). An IPv6 address that
 *   embeds an IPv4 one (IPv4-mapped, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16) is
 *   judged by the IPv4 address it embeds; IPv4-compatible ::a.b.c.d (deprecated) is refused.
 *   Decimal, octal and hex IPv4 hosts are normalised by the WHATWG URL parser before the check.
 * - Redirects are followed by hand, at most a few, each hop through the same dispatcher (so
 *   re-checked); a hop to another origin carries none of the caller's headers but a safe few, so a
 *   provider key (BFL's `x-key`, `Authorization`) never reaches another host.
 * - Downloads are capped while they stream and must declare an image content type.
 *
 * Refusals are `OutboundRefused`: their message says what was refused, never what (if anything)
 * answered, so a tenant learns nothing of the internal network from a delivery's attempts list.
 * `allowPrivate` turns the address check off (tests, local development, a deployment that is
 * private on purpose); every other rule still applies.
 */

export const DEFAULT_MAX_REDIRECTS = 3;
/** Default cap on one downloaded image (the largest upstream PNGs are about 30 MB). */
export const DEFAULT_MAX_IMAGE_BYTES = 50 * 1024 * 1024;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Headers that may follow a redirect to another origin; everything else is dropped. */
const CROSS_ORIGIN_SAFE_HEADERS = new Set(['accept', 'accept-language', 'user-agent']);

export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** A request the outbound policy would not make (or stopped making). */
export class OutboundRefused extends Error {
  override name = 'OutboundRefused';
  readonly code = 'outbound_refused';
  constructor(readonly reason: string) {
    super(`refused: ${reason}`);
  }
}

/** A download that answered, but not with 2xx. */
export class DownloadFailed extends Error {
  override name = 'DownloadFailed';
  constructor(readonly status: number) {
    super(`download failed with HTTP ${status}`);
  }
}

/**
 * Why an IP address is not a public unicast address (the ipaddr.js range name, or the kind of
 * IPv6 address embedding a non-public IPv4), or undefined when it is public.
 */
export function nonPublicRange(address: string): string | undefined {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return 'not an IP address';
  }
  if (ip instanceof ipaddr.IPv4) return rangeUnlessUnicast(ip);
  const v6 = ip;
  const bytes = v6.toByteArray();
  const range = v6.range();
  const embedded = (offsets: number[], kind: string): string | undefined => {
    const inner = rangeUnlessUnicast(new ipaddr.IPv4(offsets.map((i) => bytes[i] ?? 0)));
    return inner === undefined ? undefined : `${kind} ${inner}`;
  };
  switch (range) {
    case 'ipv4Mapped':
      return embedded([12, 13, 14, 15], 'IPv4-mapped');
    case '6to4':
      return embedded([2, 3, 4, 5], '6to4');
    case 'rfc6052': {
      // 64:ff9b::/96 embeds the IPv4 address in the last 32 bits; the local-use 64:ff9b:1::/48
      // may use the /96 layout or RFC 6052's /48 one (skipping the u octet): both must be public.
      const last = embedded([12, 13, 14, 15], 'NAT64');
      if (last !== undefined || bytes[5] !== 1) return last;
      return embedded([6, 7, 9, 10], 'NAT64');
    }
    case 'unicast':
      if (bytes.slice(0, 12).every((b) => b === 0)) return 'IPv4-compatible';
      return undefined;
    default:
      return range;
  }
}

function rangeUnlessUnicast(ip: ipaddr.IPv4): string | undefined {
  const range = ip.range();
  return range === 'unicast' ? undefined : range;
}

export interface OutboundPolicyOptions {
  /** Skip the address check (tests, local development, a deployment private on purpose). */
  allowPrivate?: boolean;
  /** Name resolution; the system's by default. Tests inject answers. */
  resolve?: Resolver;
  /**
   * Addresses treated as public although they are not: tests stand a loopback address in for
   * the internet. Never set in production.
   */
  treatAsPublic?: (address: string) => boolean;
  /** The fetch the policy drives (with its dispatcher): undici's; tests inject fakes. */
  fetch?: typeof fetch;
  maxRedirects?: number;
  connectTimeoutMs?: number;
}

export interface OutboundPolicy {
  /** The undici dispatcher that checks every connection; pass it to anything that connects. */
  readonly dispatcher: Dispatcher;
  /** Checks a URL without connecting (its shape, then its host's addresses): for a clear error early. */
  check(url: string): Promise<void>;
  /**
   * `fetch` under the policy. `redirect: 'follow'` (the default) follows at most `maxRedirects`
   * hops, each re-checked, dropping the caller's headers on a hop to another origin; `manual`
   * returns the 3xx; `error` refuses it. URLs only: a `Request` object is refused.
   */
  fetch: typeof fetch;
  /**
   * GETs an image: a 2xx answer with an `image/*` content type, at most `maxBytes` long (counted as
   * it streams; the download is aborted past the cap). Throws `OutboundRefused` or `DownloadFailed`.
   */
  downloadImage(
    url: string,
    options: { maxBytes: number; signal?: AbortSignal },
  ): Promise<{ bytes: Uint8Array; contentType: string }>;
  close(): Promise<void>;
}

type AddressOptions = Pick<OutboundPolicyOptions, 'allowPrivate' | 'resolve' | 'treatAsPublic'>;

/** Why the policy refuses an address, or undefined when it may be connected to. */
function refusalUnder(options: AddressOptions): (address: string) => string | undefined {
  return (address) => {
    if (options.allowPrivate || options.treatAsPublic?.(address)) return undefined;
    return nonPublicRange(address);
  };
}

/** Resolves once and returns the address to connect to, or throws when any answer is not public. */
function addressResolver(options: AddressOptions): (hostname: string) => Promise<string> {
  const resolve = options.resolve ?? systemResolver;
  const refusal = refusalUnder(options);
  return async (hostname) => {
    const host = hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(host)) {
      const why = refusal(host);
      if (why) throw new OutboundRefused(`${host} is not a public address (${why})`);
      return host;
    }
    let answers: Array<{ address: string }>;
    try {
      answers = await resolve(host);
    } catch {
      answers = [];
    }
    if (answers.length === 0) throw new Error(`could not resolve ${host}`);
    for (const { address } of answers) {
      const why = refusal(address);
      if (why) throw new OutboundRefused(`${host} resolves to a non-public address (${why})`);
    }
    return answers[0]!.address;
  };
}

/**
 * Checks a URL without connecting: its shape, then its host's addresses. For a clear error
 * early (a webhook URL at submit); the connection is checked again when it is made.
 */
export async function checkOutboundUrl(url: string, options: AddressOptions = {}): Promise<void> {
  const { hostname } = checkedUrl(url);
  if (!options.allowPrivate) await addressResolver(options)(hostname);
}

export function createOutboundPolicy(options: OutboundPolicyOptions = {}): OutboundPolicy {
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  // undici's own fetch, with the dispatcher from the same package (Node's bundled copy may differ).
  const fetchImpl = options.fetch ?? undiciFetch;
  const refusal = refusalUnder(options);
  const addressFor = addressResolver(options);

  const baseConnect = buildConnector({ timeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS });
  const connect: buildConnector.connector = (connectOptions, callback) => {
    addressFor(connectOptions.hostname).then(
      (address) =>
        baseConnect({ ...connectOptions, hostname: address }, (err, socket) => {
          if (err !== null) return callback(err, null);
          const peer = socket.remoteAddress;
          const why = peer === undefined ? 'no peer address' : refusal(peer);
          if (why !== undefined) {
            socket.destroy();
            return callback(new OutboundRefused(`the connected address is not public (${why})`), null);
          }
          return callback(null, socket);
        }),
      (err: Error) => callback(err, null),
    );
  };
  const dispatcher = new Agent({ connect });

  const send = async (url: URL, init: RequestInit): Promise<Response> => {
    try {
      return await fetchImpl(url, { ...init, redirect: 'manual', dispatcher });
    } catch (err) {
      throw refusedCause(err) ?? err;
    }
  };

  const policyFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    if (typeof input !== 'string' && !(input instanceof URL))
      throw new TypeError('the outbound policy fetches URLs, not Request objects');
    let url = checkedUrl(String(input));
    const mode = init.redirect ?? 'follow';
    let method = (init.method ?? 'GET').toUpperCase();
    let body = init.body;
    let headers = new Headers(init.headers);
    for (let hop = 0; ; hop++) {
      const res = await send(url, { ...init, method, headers, body: body ?? null });
      const location = res.headers.get('location');
      if (mode === 'manual' || !isRedirect(res.status) || location === null) return res;
      await res.body?.cancel().catch(() => undefined);
      if (mode === 'error') throw new OutboundRefused(`${url.origin} answered with a redirect`);
      if (hop >= maxRedirects) throw new OutboundRefused(`more than ${maxRedirects} redirects`);
      const next = checkedUrl(location, url);
      if (next.origin !== url.origin) headers = crossOriginHeaders(headers);
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        headers.delete('content-type');
      }
      url = next;
    }
  };

  return {
    dispatcher,
    check: (url) => checkOutboundUrl(url, options),
    fetch: policyFetch,
    async downloadImage(url, { maxBytes, signal }) {
      const res = await policyFetch(url, { headers: { accept: 'image/*' }, ...(signal && { signal }) });
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        throw new DownloadFailed(res.status);
      }
      const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (!contentType.startsWith('image/')) {
        await res.body?.cancel().catch(() => undefined);
        throw new OutboundRefused(`the download is not an image (content type "${contentType}")`);
      }
      return { bytes: await readCapped(res, maxBytes), contentType };
    },
    close: () => dispatcher.close(),
  };
}

/** The URL if it is one the policy fetches at all: http(s), without credentials in it. */
function checkedUrl(value: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    throw new OutboundRefused('not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new OutboundRefused('only http(s) URLs are fetched');
  if (url.username || url.password) throw new OutboundRefused('credentials in the URL are not allowed');
  return url;
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function crossOriginHeaders(headers: Headers): Headers {
  const kept = new Headers();
  headers.forEach((value, name) => {
    if (CROSS_ORIGIN_SAFE_HEADERS.has(name)) kept.set(name, value);
  });
  return kept;
}

/**
 * fetch wraps connect errors ("fetch failed", cause …): the refusal is the error to report. The
 * wrapper comes from Node's own undici, possibly another realm than ours: no `instanceof Error`.
 */
function refusedCause(err: unknown): OutboundRefused | undefined {
  let e: unknown = err;
  for (let depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    if (e instanceof OutboundRefused) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

async function readCapped(res: Response, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = (): OutboundRefused =>
    new OutboundRefused(`the download is larger than ${maxBytes} bytes`);
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!res.body) return new Uint8Array();
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
    if (done || value === undefined) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}
