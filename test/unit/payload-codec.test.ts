import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, METADATA_ENCODING_KEY, ValueError, type Payload } from '@temporalio/common';
import {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  METADATA_ENCRYPTION_KEY_ID,
  parsePayloadKeys,
} from '../../platform/payload-codec';

const key = (): string => randomBytes(32).toString('base64');
const OLD = `old:${key()}`;
const NEW = `new:${key()}`;

const input = { prompt: 'a lighthouse at dawn, watercolor', metadata: { customer: 'ACME-4471' } };
const payloadOf = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const valueOf = (payload: Payload): unknown => defaultPayloadConverter.fromPayload(payload);
const text = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? []).toString();

describe('payload encryption codec', () => {
  it('round-trips a payload, metadata included, without the plaintext in what is stored', async () => {
    const codec = new EncryptionCodec(parsePayloadKeys(NEW));
    const [encoded] = await codec.encode([payloadOf(input)]);
    expect(text(encoded!.metadata![METADATA_ENCODING_KEY])).toBe(ENCRYPTED_ENCODING);
    expect(text(encoded!.metadata![METADATA_ENCRYPTION_KEY_ID])).toBe('new');
    expect(Object.keys(encoded!.metadata!).sort()).toEqual(
      [METADATA_ENCRYPTION_KEY_ID, METADATA_ENCODING_KEY].sort(),
    );
    expect(Buffer.from(encoded!.data!).includes('lighthouse')).toBe(false);
    expect(Buffer.from(encoded!.data!).includes('json/plain')).toBe(false);

    const [decoded] = await codec.decode([encoded!]);
    expect(text(decoded!.metadata![METADATA_ENCODING_KEY])).toBe('json/plain');
    expect(valueOf(decoded!)).toEqual(input);
  });

  it('encrypts each payload with a fresh nonce', async () => {
    const codec = new EncryptionCodec(parsePayloadKeys(NEW));
    const [a, b] = await codec.encode([payloadOf(input), payloadOf(input)]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('decrypts a payload encrypted under the old key after the key rotated', async () => {
    const before = new EncryptionCodec(parsePayloadKeys(OLD));
    const [underOld] = await before.encode([payloadOf(input)]);

    const rotated = new EncryptionCodec(parsePayloadKeys(`${NEW},${OLD}`));
    const [decoded] = await rotated.decode([underOld!]);
    expect(valueOf(decoded!)).toEqual(input);
    // New payloads are encrypted with the first key only.
    const [underNew] = await rotated.encode([payloadOf(input)]);
    expect(text(underNew!.metadata![METADATA_ENCRYPTION_KEY_ID])).toBe('new');
    await expect(before.decode([underNew!])).rejects.toThrow(/encrypted with key "new"/);
  });

  it('refuses a tampered ciphertext', async () => {
    const codec = new EncryptionCodec(parsePayloadKeys(NEW));
    const [encoded] = await codec.encode([payloadOf(input)]);
    const data = Buffer.from(encoded!.data!);
    data[20] = data[20]! ^ 0x01;
    const tampered = { ...encoded!, data };
    await expect(codec.decode([tampered])).rejects.toThrow(ValueError);
    await expect(codec.decode([tampered])).rejects.toThrow(/failed authentication/);
  });

  it('refuses a payload sealed with another key under the same key id', async () => {
    const [encoded] = await new EncryptionCodec(parsePayloadKeys(`new:${key()}`)).encode([payloadOf(input)]);
    await expect(new EncryptionCodec(parsePayloadKeys(NEW)).decode([encoded!])).rejects.toThrow(
      /failed authentication/,
    );
  });

  it('names an unknown key id and how to add it', async () => {
    const [encoded] = await new EncryptionCodec(parsePayloadKeys(OLD)).encode([payloadOf(input)]);
    await expect(new EncryptionCodec(parsePayloadKeys(NEW)).decode([encoded!])).rejects.toThrow(
      'Payload was encrypted with key "old", which is not among the configured keys (new): add it to EASEL_PAYLOAD_KEYS to decrypt',
    );
  });

  it('passes through payloads that were never encrypted (histories from before encryption)', async () => {
    const plain = payloadOf(input);
    const [decoded] = await new EncryptionCodec(parsePayloadKeys(NEW)).decode([plain]);
    expect(decoded).toBe(plain);
  });

  it('refuses an encrypted payload without its key id', async () => {
    const codec = new EncryptionCodec(parsePayloadKeys(NEW));
    const [encoded] = await codec.encode([payloadOf(input)]);
    const metadata = { [METADATA_ENCODING_KEY]: encoded!.metadata![METADATA_ENCODING_KEY]! };
    await expect(codec.decode([{ metadata, data: encoded!.data! }])).rejects.toThrow(/no encryption-key-id/);
  });
});

describe('payload keys (EASEL_PAYLOAD_KEYS)', () => {
  it('uses the first key to encrypt and accepts all', () => {
    const ring = parsePayloadKeys(` ${NEW} , ${OLD} `);
    expect(ring.encryptWith).toBe('new');
    expect([...ring.keys.keys()]).toEqual(['new', 'old']);
    expect(ring.keys.get('old')!.length).toBe(32);
  });

  it('refuses malformed lists without quoting the key material', () => {
    const secret = Buffer.alloc(16, 1).toString('base64');
    expect(() => parsePayloadKeys('')).toThrow(/at least one/);
    expect(() => parsePayloadKeys(key())).toThrow(/entry 1: expected keyId:base64key/);
    expect(() => parsePayloadKeys(`k:${secret}`)).toThrow(/key k: must be 32 random bytes/);
    expect(() => parsePayloadKeys(`k:${secret}`)).not.toThrow(secret);
    expect(() => parsePayloadKeys(`k:not base64!`)).toThrow(/key k: must be 32/);
    expect(() => parsePayloadKeys(`${NEW},${NEW}`)).toThrow(/key new: listed twice/);
  });
});
