import type { Request } from 'express';
import { z } from 'zod';
import { contentTypeOf, imageDimensions } from '../../platform/image-store';
import { GPT_IMAGE_MAX_MASK_BYTES } from '../../providers/openai/images-api';
import { MultipartRefused, readMultipart } from '../multipart';
import { parseInput } from '../validation';
import { MAX_REFERENCE_IMAGES } from './imagine';
import { imageOptionFields, moderationField, openAiError } from './openai-images';

/**
 * Reads a `POST /v1/images/edits` request in either of OpenAI's forms: multipart/form-data with
 * `image` or `image[]` file parts and an optional `mask` file (what the official clients send),
 * or JSON with `images: [{image_url}]` and `mask: {image_url}`. Uploaded files are checked by
 * their bytes, never by their names or declared types.
 */

/** The largest file one edit may upload (OpenAI allows 50 MB for GPT image models; Easel holds uploads in memory). */
export const MAX_UPLOAD_BYTES = 25 * 1024 * 1024;
const EDIT_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
const SUPPORTED_TYPES = "'image/jpeg', 'image/png', and 'image/webp'";

const editOptionFields = {
  ...imageOptionFields,
  /** The adapters send OpenAI's default, low; high is not passed on, so it is refused. */
  input_fidelity: z
    .literal('low', { error: 'high input fidelity is not offered on this Easel: omit it or send low' })
    .optional(),
};

/** The text fields of a multipart edit (the files are read apart). */
export const editsFormBody = z.strictObject(editOptionFields);

const imageReference = z.strictObject({
  image_url: z.string().min(1).optional(),
  file_id: z.string().min(1).optional(),
});

/** The JSON form of an edit (OpenAI's `EditImageBodyJsonParam`). */
export const editsJsonBody = z.strictObject({
  ...editOptionFields,
  moderation: moderationField,
  images: z.array(imageReference),
  mask: imageReference.optional(),
});

export type EditOptions = z.infer<typeof editsFormBody> & { moderation?: 'auto' | undefined };

/** One input of an edit: a URL passed on as it is, or bytes to store. */
export type EditInput =
  | { kind: 'url'; url: string }
  | { kind: 'upload'; bytes: Buffer; contentType: string; width: number; height: number };

export interface EditRequest {
  options: EditOptions;
  images: EditInput[];
  mask?: EditInput;
}

const INTEGER_FIELDS = new Set(['n', 'output_compression', 'partial_images']);
const BOOLEAN_FIELDS = new Set(['stream']);

export async function readEditRequest(req: Request): Promise<EditRequest> {
  if (req.is('multipart/form-data')) return readFormEdit(req);
  if (req.is('application/json')) return readJsonEdit(req.body);
  throw openAiError(
    400,
    'Send the edit as multipart/form-data (image files) or application/json (image URLs).',
    { code: 'invalid_content_type' },
  );
}

async function readFormEdit(req: Request): Promise<EditRequest> {
  let form;
  try {
    form = await readMultipart(req, {
      files: MAX_REFERENCE_IMAGES + 1,
      fileBytes: MAX_UPLOAD_BYTES,
      fields: 32,
      fieldBytes: 64 * 1024,
    });
  } catch (err) {
    if (!(err instanceof MultipartRefused)) throw err;
    if (err.reason === 'too_many_files') throw tooManyImages();
    if (err.reason === 'file_too_large') {
      throw openAiError(413, `${err.message} Each image may be at most 25 MB on this Easel.`, {
        param: err.field ?? null,
        code: 'file_too_large',
      });
    }
    throw openAiError(400, err.message, { param: err.field ?? null });
  }

  const text: Record<string, unknown> = {};
  for (const [name, values] of form.fields) {
    if (values.length > 1) {
      throw openAiError(400, `Field '${name}' was sent ${values.length} times; send it once.`, {
        param: name,
        code: 'invalid_value',
      });
    }
    const value = values[0]!;
    text[name] =
      INTEGER_FIELDS.has(name) && /^-?\d+$/.test(value)
        ? Number(value)
        : BOOLEAN_FIELDS.has(name) && (value === 'true' || value === 'false')
          ? value === 'true'
          : value;
  }
  for (const field of ['image', 'image[]', 'mask']) {
    if (field in text) {
      throw openAiError(400, `'${field}' must be a file, not a text field.`, {
        param: field.replace('[]', ''),
        code: 'invalid_type',
      });
    }
  }
  const options = parseInput(editsFormBody, text);

  const stray = form.files.find((f) => !['image', 'image[]', 'mask'].includes(f.field));
  if (stray) {
    throw openAiError(400, `Unrecognized file field '${stray.field}': send image, image[] or mask.`, {
      param: stray.field,
      code: 'unknown_parameter',
    });
  }
  const masks = form.files.filter((f) => f.field === 'mask');
  if (masks.length > 1) {
    throw openAiError(400, 'Send at most one mask.', { param: 'mask', code: 'invalid_value' });
  }
  const imageFiles = form.files.filter((f) => f.field !== 'mask');
  if (imageFiles.length === 0) throw missingImage();
  if (imageFiles.length > MAX_REFERENCE_IMAGES) throw tooManyImages(imageFiles.length);
  const images = imageFiles.map((f, i) => upload(f.bytes, 'image', i));
  const mask = masks[0] ? upload(masks[0].bytes, 'mask', 0) : undefined;
  checkMask(images, mask);
  return { options, images, ...(mask && { mask }) };
}

function readJsonEdit(body: unknown): EditRequest {
  const parsed = parseInput(editsJsonBody, body);
  const { images: references, mask: maskReference, ...options } = parsed;
  if (references.length === 0) throw missingImage('images');
  if (references.length > MAX_REFERENCE_IMAGES) throw tooManyImages(references.length, 'images');
  const images = references.map((r, i) => fromReference(r, `images[${i}]`, i));
  const mask = maskReference ? fromReference(maskReference, 'mask', 0) : undefined;
  checkMask(images, mask);
  return { options, images, ...(mask && { mask }) };
}

/** A JSON image reference: an http(s) URL passed on, or a data: URL stored as an upload. */
function fromReference(reference: z.infer<typeof imageReference>, param: string, index: number): EditInput {
  if (reference.file_id !== undefined) {
    throw openAiError(
      400,
      `${param}.file_id refers to OpenAI's Files API, which Easel does not have: give image_url (an http(s) or data: URL) or upload the file as multipart/form-data.`,
      { param: `${param}.file_id`, code: 'unsupported_parameter' },
    );
  }
  const url = reference.image_url;
  if (url === undefined) {
    throw openAiError(400, `Missing required parameter: '${param}.image_url'.`, {
      param: `${param}.image_url`,
      code: 'missing_required_parameter',
    });
  }
  const data = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(url);
  if (data) {
    if (!data[2]) {
      throw openAiError(400, `${param}.image_url: a data: URL must be base64-encoded.`, {
        param: `${param}.image_url`,
        code: 'invalid_value',
      });
    }
    return upload(Buffer.from(data[3]!, 'base64'), param.startsWith('mask') ? 'mask' : 'image', index, param);
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw openAiError(400, `${param}.image_url must be an http(s) URL or a data: URL of an image.`, {
      param: `${param}.image_url`,
      code: 'invalid_value',
    });
  }
  return { kind: 'url', url };
}

/**
 * Uploaded bytes, if they are a PNG, JPEG or WebP image (by their signature and header); a mask
 * only if it is a PNG of less than GPT_IMAGE_MAX_MASK_BYTES (OpenAI's limit; refused here before anything is stored).
 */
function upload(bytes: Buffer, field: 'image' | 'mask', index: number, param: string = field): EditInput {
  const contentType = contentTypeOf(bytes);
  const dimensions = bytes.length > 0 ? imageDimensions(bytes) : undefined;
  if (field === 'mask') {
    if (contentType !== 'image/png' || !dimensions) {
      throw openAiError(
        400,
        `Invalid file 'mask': ${contentType ? `unsupported mimetype ('${contentType}')` : 'not a PNG image'}. Supported file formats are 'image/png'.`,
        { param, code: 'unsupported_file_mimetype' },
      );
    }
    if (bytes.length >= GPT_IMAGE_MAX_MASK_BYTES) {
      throw openAiError(
        400,
        `Invalid file 'mask': ${bytes.length} bytes; the mask must be a PNG file of less than 4 MB.`,
        { param, code: 'image_file_too_large' },
      );
    }
  } else if (!contentType || !EDIT_TYPES.includes(contentType) || !dimensions) {
    throw openAiError(
      400,
      `Invalid file 'image' (image ${index + 1}): not a PNG, JPEG or WebP image. Supported file formats are ${SUPPORTED_TYPES}.`,
      { param, code: 'unsupported_file_mimetype' },
    );
  }
  return { kind: 'upload', bytes, contentType, ...dimensions };
}

/** OpenAI applies the mask to the first image, whose size it must have. */
function checkMask(images: EditInput[], mask: EditInput | undefined): void {
  const first = images[0];
  if (mask?.kind !== 'upload' || first?.kind !== 'upload') return;
  if (mask.width !== first.width || mask.height !== first.height) {
    throw openAiError(
      400,
      `Invalid mask image: the mask (${mask.width}x${mask.height}) must have the same dimensions as the image (${first.width}x${first.height}).`,
      { param: 'mask', code: 'invalid_image_dimensions' },
    );
  }
}

function missingImage(param = 'image') {
  return openAiError(400, `Missing required parameter: '${param}'.`, {
    param,
    code: 'missing_required_parameter',
  });
}

function tooManyImages(count?: number, param = 'image') {
  return openAiError(
    400,
    `Invalid '${param}': at most ${MAX_REFERENCE_IMAGES} images on this Easel (one job takes at most ${MAX_REFERENCE_IMAGES} reference images, as /v1/imagine's image_urls)${count === undefined ? ', and one mask' : `, got ${count}`}.`,
    { param, code: 'array_above_max_length' },
  );
}
