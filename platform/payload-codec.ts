import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, ValueError, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/** The encoding of an encrypted payload; anything else is passed through by `decode`. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The metadata key naming the key a payload was encrypted with (as Temporal's samples name it). */
export const METADATA_ENCRYPTION_KEY_ID = 'encryption-key-id';

const CIPHER = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The keys payloads are encrypted with: the first encrypts, every one decrypts. */
export interface PayloadKeyring {
  encryptWith: string;
  keys: ReadonlyMap<string, Buffer>;
}

/**
 * Parses `keyId:base64key[,keyId:base64key…]` (EASEL_PAYLOAD_KEYS): 256-bit keys, the first one
 * used to encrypt. Rotating a key puts the new one first and keeps the old ones after it until no
 * history still holds payloads encrypted with them. Errors never quote the key material.
 */
export function parsePayloadKeys(text: string): PayloadKeyring {
  const keys = new Map<string, Buffer>();
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw new Error('must list at least one keyId:base64key');
  for (const [index, entry] of entries.entries()) {
    const colon = entry.indexOf(':');
    const id = colon < 0 ? '' : entry.slice(0, colon);
    const encoded = colon < 0 ? '' : entry.slice(colon + 1);
    if (!KEY_ID.test(id)) {
      throw new Error(`entry ${index + 1}: expected keyId:base64key with a key id of letters, digits, . _ -`);
    }
    const key = BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : Buffer.alloc(0);
    if (key.length !== KEY_BYTES) {
      throw new Error(`key ${id}: must be ${KEY_BYTES} random bytes in base64 (openssl rand -base64 32)`);
    }
    if (keys.has(id)) throw new Error(`key ${id}: listed twice`);
    keys.set(id, key);
  }
  return { encryptWith: [...keys.keys()][0]!, keys };
}

/** A new keyring entry for local runs: `keyId:base64key`. */
export function generatePayloadKey(keyId: string): string {
  return `${keyId}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

/**
 * Encrypts every payload Temporal stores (workflow and activity inputs and results, signals,
 * queries, memos, heartbeat details) with AES-256-GCM, as Temporal's encryption sample does: the
 * whole payload, metadata included, serialised and sealed, the key id in the clear beside it.
 * `decode` passes through payloads that are not encrypted (histories written before encryption),
 * and refuses a payload whose key is unknown or whose ciphertext fails authentication.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly encryptKey: Buffer;
  private readonly encryptKeyId: Uint8Array;

  constructor(private readonly keyring: PayloadKeyring) {
    this.encryptKey = keyring.keys.get(keyring.encryptWith)!;
    this.encryptKeyId = Buffer.from(keyring.encryptWith);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const plain = temporal.api.common.v1.Payload.encodeDelimited(payload).finish();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(CIPHER, this.encryptKey, iv, { authTagLength: TAG_BYTES });
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
          [METADATA_ENCRYPTION_KEY_ID]: this.encryptKeyId,
        },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
      if (!encoding || Buffer.from(encoding).toString() !== ENCRYPTED_ENCODING) return payload;
      const keyIdBytes = payload.metadata?.[METADATA_ENCRYPTION_KEY_ID];
      if (!keyIdBytes) throw new ValueError('Encrypted payload has no encryption-key-id');
      const keyId = Buffer.from(keyIdBytes).toString();
      const key = this.keyring.keys.get(keyId);
      if (!key) {
        throw new ValueError(
          `Payload was encrypted with key "${keyId}", which is not among the configured keys ` +
            `(${[...this.keyring.keys.keys()].join(', ')}): add it to EASEL_PAYLOAD_KEYS to decrypt`,
        );
      }
      const sealed = Buffer.from(payload.data ?? new Uint8Array());
      if (sealed.length < IV_BYTES + TAG_BYTES) {
        throw new ValueError(`Encrypted payload (key "${keyId}") is too short to be one`);
      }
      const decipher = createDecipheriv(CIPHER, key, sealed.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([
          decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
          decipher.final(),
        ]);
      } catch {
        throw new ValueError(
          `Encrypted payload (key "${keyId}") failed authentication: tampered with, or not encrypted with this key`,
        );
      }
      return temporal.api.common.v1.Payload.decodeDelimited(plain);
    });
  }
}
