import { createHash } from 'node:crypto';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import type { OutputFormat } from '../types';

export interface SandboxImageSpec {
  model: string;
  prompt: string;
  seed?: number;
  /** Position of the image within one request, so n > 1 yields n different images. */
  index: number;
  width: number;
  height: number;
}

/**
 * Renders a plasma-like pattern whose palette, frequencies and phases all come from a hash of the
 * model, prompt, seed and index: the same inputs always give the same bytes, and different prompts
 * give visibly different pictures. Sines are tabulated per row, column and diagonal so a pixel is
 * a handful of table look-ups, and the PNG is written unfiltered at deflate level 1 for speed.
 */
export function renderSandboxImage(spec: SandboxImageSpec): Buffer {
  const { width, height } = spec;
  const digest = createHash('sha256')
    .update(JSON.stringify([spec.model, spec.prompt, spec.seed ?? null, spec.index]))
    .digest();
  const byte = (i: number): number => digest[i % digest.length] ?? 0;
  const unit = (i: number): number => byte(i) / 255;

  const palette = buildPalette([
    [byte(0), byte(1), byte(2)],
    [byte(3), byte(4), byte(5)],
    [byte(6), byte(7), byte(8)],
  ]);

  const scale = 1 / Math.max(width, height);
  const wave = (length: number, frequency: number, phase: number): Float64Array => {
    const table = new Float64Array(length);
    for (let i = 0; i < length; i++) table[i] = Math.sin(i * scale * frequency + phase);
    return table;
  };
  const twoPi = Math.PI * 2;
  const columns = wave(width, 4 + unit(9) * 14, unit(10) * twoPi);
  const rows = wave(height, 4 + unit(11) * 14, unit(12) * twoPi);
  const diagonals = wave(width + height, 3 + unit(13) * 10, unit(14) * twoPi);
  const antiDiagonals = wave(width + height, 3 + unit(15) * 10, unit(16) * twoPi);

  // RGB in, RGB out: pngjs then skips its per-pixel colour conversion.
  const data = Buffer.alloc(width * height * 3);
  let offset = 0;
  for (let y = 0; y < height; y++) {
    const row = rows[y] ?? 0;
    for (let x = 0; x < width; x++) {
      // Four sines sum to [-4, 4]; that range wraps twice round the cyclic 256-entry palette.
      const v = row + (columns[x] ?? 0) + (diagonals[x + y] ?? 0) + (antiDiagonals[x - y + height] ?? 0);
      const entry = ((v + 4) * 63.75) & 255;
      const p = entry * 3;
      data[offset] = palette[p] ?? 0;
      data[offset + 1] = palette[p + 1] ?? 0;
      data[offset + 2] = palette[p + 2] ?? 0;
      offset += 3;
    }
  }
  const png = new PNG({ width, height });
  png.data = data;
  // pngjs defaults to the RLE strategy, which barely compresses this; the default strategy at
  // level 1 is both smaller (the palette repeats) and faster.
  return PNG.sync.write(png, {
    colorType: 2,
    inputColorType: 2,
    inputHasAlpha: false,
    deflateLevel: 1,
    deflateStrategy: 0,
    filterType: 0,
  });
}

/** 256 RGB entries cycling through three colours and back to the first, so wrapping is seamless. */
function buildPalette(colours: [number, number, number][]): Uint8Array {
  const palette = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 256) * colours.length;
    const from = colours[Math.floor(t) % colours.length] ?? [0, 0, 0];
    const to = colours[(Math.floor(t) + 1) % colours.length] ?? [0, 0, 0];
    // Smoothstep between neighbours keeps the bands soft.
    const f = t - Math.floor(t);
    const s = f * f * (3 - 2 * f);
    for (let c = 0; c < 3; c++) palette[i * 3 + c] = Math.round((from[c] ?? 0) * (1 - s) + (to[c] ?? 0) * s);
  }
  return palette;
}

/** The sandbox's picture in the format asked for (PNG as drawn; JPEG and WebP encoded by sharp). */
export async function renderSandboxImageAs(spec: SandboxImageSpec, format: OutputFormat): Promise<Buffer> {
  const png = renderSandboxImage(spec);
  if (format === 'png') return png;
  return format === 'jpeg'
    ? sharp(png).jpeg({ quality: 85 }).toBuffer()
    : sharp(png).webp({ quality: 85 }).toBuffer();
}
