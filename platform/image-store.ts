import fs from 'node:fs';
import path from 'node:path';
import { randomToken } from './ids';

/**
 * Where Easel keeps generated images: upstream URLs expire, ours do not. Keys are long random
 * strings, so a URL is unguessable and can be served without credentials.
 */
export interface ImageStore {
  put(bytes: Uint8Array, contentType: string): Promise<string>;
  /** The file path or readable stream for a key; null when unknown. */
  open(key: string): Promise<{ stream: NodeJS.ReadableStream; contentType: string; bytes: number } | null>;
  read(key: string): Promise<Buffer | null>;
  /** Removes an image; a key already gone is not an error. */
  delete(key: string): Promise<void>;
  /** Throws, saying what is wrong, when images can be neither stored nor served (for `/readyz`). */
  check(): Promise<void>;
}

const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' };
const CONTENT_TYPES = Object.fromEntries(Object.entries(EXTENSIONS).map(([type, ext]) => [ext, type]));
const KEY_PATTERN = /^[A-Za-z0-9]{32}\.(png|jpg|webp)$/;

/** A fresh key for an image of this type: every store names images alike. */
export function newImageKey(contentType: string): string {
  return `${randomToken(32)}.${EXTENSIONS[contentType] ?? 'png'}`;
}

/** Whether a key is one a store could have made (anything else is refused before any I/O). */
export function isImageKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/** The content type a key's extension names. */
export function contentTypeOfKey(key: string): string {
  return CONTENT_TYPES[key.split('.').pop() ?? ''] ?? 'application/octet-stream';
}

/**
 * Images on local disk under the data folder (the default). With several hosts, point every API
 * replica and worker at the same shared folder, or use an S3-compatible store.
 */
export class LocalDiskImageStore implements ImageStore {
  constructor(private readonly root: string) {}

  async put(bytes: Uint8Array, contentType: string): Promise<string> {
    const key = newImageKey(contentType);
    const file = this.pathOf(key);
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    // Write then rename: a reader never sees half an image.
    await fs.promises.writeFile(`${file}.tmp`, bytes);
    await fs.promises.rename(`${file}.tmp`, file);
    return key;
  }

  async open(
    key: string,
  ): Promise<{ stream: NodeJS.ReadableStream; contentType: string; bytes: number } | null> {
    if (!isImageKey(key)) return null;
    const file = this.pathOf(key);
    try {
      const stat = await fs.promises.stat(file);
      return { stream: fs.createReadStream(file), contentType: contentTypeOfKey(key), bytes: stat.size };
    } catch {
      return null;
    }
  }

  async read(key: string): Promise<Buffer | null> {
    if (!isImageKey(key)) return null;
    return fs.promises.readFile(this.pathOf(key)).catch(() => null);
  }

  async delete(key: string): Promise<void> {
    if (!isImageKey(key)) return;
    await fs.promises.rm(this.pathOf(key), { force: true });
  }

  async check(): Promise<void> {
    await fs.promises.mkdir(this.root, { recursive: true });
    await fs.promises.access(this.root, fs.constants.W_OK);
  }

  private pathOf(key: string): string {
    // Two levels of fan-out keep directories small.
    return path.join(this.root, key.slice(0, 2), key.slice(2, 4), key);
  }
}

/** Width and height from a PNG, JPEG or WebP header; undefined for other formats. */
export function imageDimensions(bytes: Uint8Array): { width: number; height: number } | undefined {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length >= 24 && view.readUInt32BE(0) === 0x89504e47) {
    return { width: view.readUInt32BE(16), height: view.readUInt32BE(20) };
  }
  if (view.length > 4 && view[0] === 0xff && view[1] === 0xd8) {
    let offset = 2;
    while (offset + 9 < view.length) {
      if (view[offset] !== 0xff) return undefined;
      const marker = view[offset + 1]!;
      const length = view.readUInt16BE(offset + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: view.readUInt16BE(offset + 5), width: view.readUInt16BE(offset + 7) };
      }
      offset += 2 + length;
    }
  }
  if (
    view.length >= 30 &&
    view.toString('ascii', 0, 4) === 'RIFF' &&
    view.toString('ascii', 8, 12) === 'WEBP'
  ) {
    switch (view.toString('ascii', 12, 16)) {
      case 'VP8 ': // lossy: 14-bit sizes after the key frame's start code
        return { width: view.readUInt16LE(26) & 0x3fff, height: view.readUInt16LE(28) & 0x3fff };
      case 'VP8L': {
        // lossless: 14-bit width-1 and height-1 packed after the signature byte
        const bits = view.readUInt32LE(21);
        return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
      }
      case 'VP8X': // extended: 24-bit canvas width-1 and height-1
        return { width: view.readUIntLE(24, 3) + 1, height: view.readUIntLE(27, 3) + 1 };
      default:
        return undefined;
    }
  }
  return undefined;
}

export function contentTypeOf(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0x89 && bytes[1] === 0x50) return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  if (bytes[8] === 0x57 && bytes[9] === 0x45 && bytes[10] === 0x42 && bytes[11] === 0x50) return 'image/webp';
  return undefined;
}
