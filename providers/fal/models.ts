import type { AspectRatio, OutputFormat } from '../types';

/**
 * The fal endpoints this adapter serves and how each takes its input, from the endpoint map and
 * generated input schemas of the official client (`fal-ai/fal-js`, libs/client/src/types/endpoints.ts
 * @ 381105e1, 2026-08-02, and libs/client/src/types/image/zod.gen.ts @ 53241327, 2026-02-03).
 *
 * Families differ in how the size is given (`image_size` as `{width, height}`, or an `aspect_ratio`
 * enum), whether one request makes several images (`num_images`), and where reference images go:
 * the `/edit` sibling endpoint (FLUX.2, Nano Banana) or the same endpoint as style references
 * (Ideogram 3.0).
 */
export interface FalModel {
  /** The text-to-image endpoint id. */
  endpoint: string;
  /** Where a request with reference images goes; undefined: the same endpoint (or none taken). */
  editEndpoint?: string;
  size:
    | { kind: 'image_size'; min: number; max: number }
    | { kind: 'aspect_ratio'; ratios: readonly AspectRatio[] };
  /** Most images one request makes (`num_images`); 1: the schema has no `num_images`. */
  maxPerRequest: number;
  maxReferenceImages: number;
  negativePrompt: boolean;
  outputFormats: readonly OutputFormat[];
  /** The schema takes `output_format` (Ideogram's does not: it serves PNG). */
  sendsOutputFormat: boolean;
  enableSafetyChecker: boolean;
  /** The highest `safety_tolerance` the schema takes (a string "1"…); 0: none. */
  maxSafetyTolerance: number;
  /** Name of the prompt-rewriting switch, if the schema has one. */
  promptExpansion?: 'enable_prompt_expansion' | 'expand_prompt';
  /** Takes `resolution` (Nano Banana 2: 0.5K–4K). */
  resolution: boolean;
  /** Ideogram's `rendering_speed`. */
  renderingSpeed: boolean;
}

const ALL_FORMATS: readonly OutputFormat[] = ['png', 'jpeg', 'webp'];
const JPEG_PNG: readonly OutputFormat[] = ['png', 'jpeg'];

/** Nano Banana's enum has no 9:21 (nor, for the first one, the extreme ratios Easel lacks anyway). */
const NANO_BANANA_RATIOS: readonly AspectRatio[] = [
  '1:1',
  '16:9',
  '9:16',
  '4:3',
  '3:4',
  '3:2',
  '2:3',
  '21:9',
];

/** FLUX.2 [pro], [max], [flex]: one image per request; references through `/edit` (BFL takes 8). */
function flux2Partner(endpoint: string, flex: boolean): FalModel {
  return {
    endpoint,
    editEndpoint: `${endpoint}/edit`,
    size: { kind: 'image_size', min: 256, max: 2048 },
    maxPerRequest: 1,
    maxReferenceImages: 8,
    negativePrompt: false,
    outputFormats: JPEG_PNG,
    sendsOutputFormat: true,
    enableSafetyChecker: true,
    maxSafetyTolerance: 5,
    ...(flex ? { promptExpansion: 'enable_prompt_expansion' as const } : {}),
    resolution: false,
    renderingSpeed: false,
  };
}

export const FAL_MODELS: Record<string, FalModel> = {
  // FLUX.2 [dev]: image_size 512–2048 per side, num_images 1–4, `/edit` takes up to 4 images.
  'fal-ai/flux-2': {
    endpoint: 'fal-ai/flux-2',
    editEndpoint: 'fal-ai/flux-2/edit',
    size: { kind: 'image_size', min: 512, max: 2048 },
    maxPerRequest: 4,
    maxReferenceImages: 4,
    negativePrompt: false,
    outputFormats: ALL_FORMATS,
    sendsOutputFormat: true,
    enableSafetyChecker: true,
    maxSafetyTolerance: 0,
    promptExpansion: 'enable_prompt_expansion',
    resolution: false,
    renderingSpeed: false,
  },
  // FLUX.1 [schnell]: num_images 1–4, jpeg or png, no edit sibling.
  'fal-ai/flux/schnell': {
    endpoint: 'fal-ai/flux/schnell',
    size: { kind: 'image_size', min: 256, max: 2048 },
    maxPerRequest: 4,
    maxReferenceImages: 0,
    negativePrompt: false,
    outputFormats: JPEG_PNG,
    sendsOutputFormat: true,
    enableSafetyChecker: true,
    maxSafetyTolerance: 0,
    resolution: false,
    renderingSpeed: false,
  },
  'fal-ai/flux-2-pro': flux2Partner('fal-ai/flux-2-pro', false),
  'fal-ai/flux-2-max': flux2Partner('fal-ai/flux-2-max', false),
  'fal-ai/flux-2-flex': flux2Partner('fal-ai/flux-2-flex', true),
  // Nano Banana (Gemini 2.5 Flash Image): aspect_ratio enum, num_images 1–4; Gemini takes 3 references.
  'fal-ai/nano-banana': {
    endpoint: 'fal-ai/nano-banana',
    editEndpoint: 'fal-ai/nano-banana/edit',
    size: { kind: 'aspect_ratio', ratios: NANO_BANANA_RATIOS },
    maxPerRequest: 4,
    maxReferenceImages: 3,
    negativePrompt: false,
    outputFormats: ALL_FORMATS,
    sendsOutputFormat: true,
    enableSafetyChecker: false,
    maxSafetyTolerance: 6,
    resolution: false,
    renderingSpeed: false,
  },
  // Nano Banana 2 (Gemini 3.1 Flash Image): as above plus `resolution`; up to 14 references.
  'fal-ai/nano-banana-2': {
    endpoint: 'fal-ai/nano-banana-2',
    editEndpoint: 'fal-ai/nano-banana-2/edit',
    size: { kind: 'aspect_ratio', ratios: NANO_BANANA_RATIOS },
    maxPerRequest: 4,
    maxReferenceImages: 14,
    negativePrompt: false,
    outputFormats: ALL_FORMATS,
    sendsOutputFormat: true,
    enableSafetyChecker: false,
    maxSafetyTolerance: 6,
    resolution: true,
    renderingSpeed: false,
  },
  // Ideogram 3.0: image_size, num_images 1–8, negative_prompt, style references on the same endpoint.
  'fal-ai/ideogram/v3': {
    endpoint: 'fal-ai/ideogram/v3',
    size: { kind: 'image_size', min: 256, max: 2048 },
    maxPerRequest: 8,
    maxReferenceImages: 10,
    negativePrompt: true,
    outputFormats: ['png'],
    sendsOutputFormat: false,
    enableSafetyChecker: false,
    maxSafetyTolerance: 0,
    promptExpansion: 'expand_prompt',
    resolution: false,
    renderingSpeed: true,
  },
};

/**
 * Width and height for an aspect ratio at `longSide`, multiples of 16 within the model's range;
 * when the short side would fall below the minimum (21:9 on FLUX.2 [dev]), the long side grows.
 */
export function falDimensions(
  aspectRatio: AspectRatio,
  longSide: number,
  range: { min: number; max: number },
): { width: number; height: number } {
  const [w, h] = aspectRatio.split(':').map(Number) as [number, number];
  const ratio = Math.max(w, h) / Math.min(w, h);
  const round16 = (x: number): number => Math.round(x / 16) * 16;
  const clamp = (x: number): number => Math.min(range.max, Math.max(range.min, x));
  let long = clamp(round16(longSide));
  let short = round16(long / ratio);
  if (short < range.min) {
    short = Math.ceil(range.min / 16) * 16;
    long = clamp(round16(short * ratio));
  }
  short = clamp(short);
  return w >= h ? { width: long, height: short } : { width: short, height: long };
}

/** `owner/app` of an endpoint id: status, result and cancel URLs drop any sub-path. */
export function falAppId(endpoint: string): string {
  return endpoint.split('/').slice(0, 2).join('/');
}
