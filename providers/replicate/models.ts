import { ASPECT_RATIOS, type AspectRatio, type OutputFormat } from '../types';

/**
 * The official Replicate models this adapter drives, with what their input schemas take (the
 * "API" tab of each model on replicate.com, checked 2026-12). Official models are run by name at
 * `POST /v1/models/{owner}/{name}/predictions`, without a version.
 */

export type ReplicateFamily = 'flux-schnell' | 'flux-2' | 'nano-banana' | 'gpt-image' | 'ideogram-v3';

export interface ReplicateModelShape {
  family: ReplicateFamily;
  /**
   * How n images are made: `field` names the input that asks one prediction for several
   * (`num_outputs`, `number_of_images`); without it each prediction makes one image.
   */
  imagesField?: 'num_outputs' | 'number_of_images';
  /** Most images one prediction makes (via `imagesField`), or 1. */
  imagesPerPrediction: number;
  /** The `aspect_ratio` enum of the schema, in Easel's notation where it has one. */
  exactRatios: readonly AspectRatio[];
  /**
   * Ratios outside the enum served anyway: by `custom` width/height (flux-2) or by the nearest
   * ratio in the enum (gpt-image-1).
   */
  otherRatios: 'custom' | 'nearest' | 'none';
  /** `aspect_ratio=custom` bounds: width and height multiples of `multipleOf` up to `maxSide`. */
  custom?: { multipleOf: number; maxSide: number };
  seed: boolean;
  /** The input holding reference image URLs, and how many the model takes. */
  referenceField?: 'input_images' | 'image_input' | 'style_reference_images';
  maxReferenceImages: number;
  outputFormats: readonly OutputFormat[];
  /** How the schema spells JPEG. */
  jpegName: 'jpg' | 'jpeg';
  /** Whether `output` is an array of URLs (else a single URL string). */
  arrayOutput: boolean;
}

const FLUX2_RATIOS: readonly AspectRatio[] = ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3'];
const ALL_FORMATS: readonly OutputFormat[] = ['png', 'jpeg', 'webp'];

const flux2 = (
  maxReferenceImages: number,
  custom: { multipleOf: number; maxSide: number },
): ReplicateModelShape => ({
  family: 'flux-2',
  imagesPerPrediction: 1,
  exactRatios: FLUX2_RATIOS,
  otherRatios: 'custom',
  custom,
  seed: true,
  referenceField: 'input_images',
  maxReferenceImages,
  outputFormats: ALL_FORMATS,
  jpegName: 'jpg',
  arrayOutput: false,
});

const ideogramV3: ReplicateModelShape = {
  family: 'ideogram-v3',
  imagesPerPrediction: 1,
  // The schema's enum also has 1:3, 3:1, 1:2, 2:1, 10:16, 16:10, 4:5, 5:4; 21:9 and 9:21 it lacks.
  exactRatios: ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3'],
  otherRatios: 'none',
  seed: true,
  referenceField: 'style_reference_images',
  // Replicate states no limit; Ideogram's own API takes up to 10 style references.
  maxReferenceImages: 10,
  // The schema has no output_format; Ideogram renders PNG.
  outputFormats: ['png'],
  jpegName: 'jpg',
  arrayOutput: false,
};

export const REPLICATE_MODELS: Readonly<Record<string, ReplicateModelShape>> = {
  'black-forest-labs/flux-schnell': {
    family: 'flux-schnell',
    imagesField: 'num_outputs',
    imagesPerPrediction: 4,
    // Enum: 1:1, 16:9, 21:9, 3:2, 2:3, 4:5, 5:4, 3:4, 4:3, 9:16, 9:21.
    exactRatios: ASPECT_RATIOS,
    otherRatios: 'none',
    seed: true,
    maxReferenceImages: 0,
    outputFormats: ALL_FORMATS,
    jpegName: 'jpg',
    arrayOutput: true,
  },
  // Enum: match_input_image, custom, 1:1, 16:9, 3:2, 2:3, 4:5, 5:4, 9:16, 3:4, 4:3.
  'black-forest-labs/flux-2-dev': flux2(4, { multipleOf: 32, maxSide: 1440 }),
  'black-forest-labs/flux-2-pro': flux2(8, { multipleOf: 32, maxSide: 2048 }),
  'black-forest-labs/flux-2-flex': flux2(10, { multipleOf: 16, maxSide: 2048 }),
  // Not checked against a stored schema; run as flux-2-pro's twin (8 references, 2048 px).
  'black-forest-labs/flux-2-max': flux2(8, { multipleOf: 32, maxSide: 2048 }),
  'google/nano-banana': {
    family: 'nano-banana',
    imagesPerPrediction: 1,
    // Enum: match_input_image, 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9, 21:9 (no 9:21).
    exactRatios: ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3', '21:9'],
    otherRatios: 'none',
    seed: false,
    referenceField: 'image_input',
    // "Supports multiple images"; Gemini 2.5 Flash Image works best with up to 3.
    maxReferenceImages: 3,
    outputFormats: ['png', 'jpeg'],
    jpegName: 'jpg',
    arrayOutput: false,
  },
  'google/nano-banana-2': {
    family: 'nano-banana',
    imagesPerPrediction: 1,
    // Enum adds 1:4, 4:1, 1:8, 8:1 to nano-banana's; still no 9:21.
    exactRatios: ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3', '21:9'],
    otherRatios: 'none',
    seed: false,
    referenceField: 'image_input',
    maxReferenceImages: 14,
    outputFormats: ['png', 'jpeg'],
    jpegName: 'jpg',
    arrayOutput: false,
  },
  'openai/gpt-image-1': {
    family: 'gpt-image',
    imagesField: 'number_of_images',
    imagesPerPrediction: 10,
    exactRatios: ['1:1', '3:2', '2:3'],
    otherRatios: 'nearest',
    seed: false,
    referenceField: 'input_images',
    maxReferenceImages: 10,
    outputFormats: ALL_FORMATS,
    jpegName: 'jpeg',
    arrayOutput: true,
  },
  'ideogram-ai/ideogram-v3-turbo': ideogramV3,
  'ideogram-ai/ideogram-v3-balanced': ideogramV3,
  'ideogram-ai/ideogram-v3-quality': ideogramV3,
};

export function replicateModelShape(upstreamModel: string): ReplicateModelShape | undefined {
  return Object.prototype.hasOwnProperty.call(REPLICATE_MODELS, upstreamModel)
    ? REPLICATE_MODELS[upstreamModel]
    : undefined;
}

/** gpt-image-1's nearest ratio: square stays square, landscape is 3:2, portrait 2:3. */
export function nearestGptImageRatio(aspectRatio: AspectRatio): AspectRatio {
  const [w, h] = aspectRatio.split(':').map(Number) as [number, number];
  if (w === h) return '1:1';
  return w > h ? '3:2' : '2:3';
}

/** flux-2's `custom` size for a ratio its enum lacks: the long side at the cap, both on the grid. */
export function customSize(
  aspectRatio: AspectRatio,
  custom: { multipleOf: number; maxSide: number },
): { width: number; height: number } {
  const [w, h] = aspectRatio.split(':').map(Number) as [number, number];
  const long = Math.min(custom.maxSide, 1536);
  const snap = (x: number): number => Math.max(256, Math.round(x / custom.multipleOf) * custom.multipleOf);
  const short = snap((long * Math.min(w, h)) / Math.max(w, h));
  return w >= h ? { width: long, height: short } : { width: short, height: long };
}
