import busboy from 'busboy';
import type { Request } from 'express';

/** How much of a multipart/form-data body is read; beyond it the request is refused. */
export interface MultipartLimits {
  /** Most file parts. */
  files: number;
  /** Largest file part, in bytes. */
  fileBytes: number;
  /** Most text fields, and the longest one in bytes. */
  fields: number;
  fieldBytes: number;
}

export interface MultipartFile {
  field: string;
  filename: string;
  /** The content type the client declared: a claim, not a fact (sniff the bytes). */
  declaredType: string;
  bytes: Buffer;
}

export interface MultipartForm {
  /** Each text field's values, in the order sent. */
  fields: Map<string, string[]>;
  files: MultipartFile[];
}

/** Why a multipart body was refused; `field` names the part at fault when one is. */
export class MultipartRefused extends Error {
  constructor(
    readonly reason:
      'too_many_files' | 'file_too_large' | 'too_many_fields' | 'field_too_large' | 'malformed',
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'MultipartRefused';
  }
}

/**
 * Reads a multipart/form-data request body into memory under `limits` (busboy streams it, so a
 * part past a limit is discarded as it arrives, never held). The first limit crossed refuses the
 * whole body; the rest of it is drained so the answer reaches the client.
 */
export function readMultipart(req: Request, limits: MultipartLimits): Promise<MultipartForm> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: {
          files: limits.files,
          fileSize: limits.fileBytes,
          fields: limits.fields,
          fieldSize: limits.fieldBytes,
          parts: limits.files + limits.fields,
        },
      });
    } catch (err) {
      reject(new MultipartRefused('malformed', `Could not parse multipart form: ${(err as Error).message}`));
      return;
    }
    const fields = new Map<string, string[]>();
    const files: MultipartFile[] = [];
    const reading: Promise<void>[] = [];
    let refused: MultipartRefused | undefined;
    const refuse = (err: MultipartRefused): void => {
      refused ??= err;
    };

    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        if (!refused) chunks.push(chunk);
      });
      stream.on('limit', () =>
        refuse(
          new MultipartRefused(
            'file_too_large',
            `File '${field}' is larger than ${limits.fileBytes / (1024 * 1024)} MB.`,
            field,
          ),
        ),
      );
      reading.push(
        new Promise((done) =>
          stream.on('close', () => {
            files.push({
              field,
              filename: info.filename ?? '',
              declaredType: info.mimeType,
              bytes: Buffer.concat(chunks),
            });
            done();
          }),
        ),
      );
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated || info.nameTruncated) {
        refuse(
          new MultipartRefused(
            'field_too_large',
            `Field '${name}' is longer than ${limits.fieldBytes} bytes.`,
            name,
          ),
        );
        return;
      }
      fields.set(name, [...(fields.get(name) ?? []), value]);
    });
    parser.on('filesLimit', () =>
      refuse(new MultipartRefused('too_many_files', `At most ${limits.files} files may be sent.`)),
    );
    parser.on('fieldsLimit', () =>
      refuse(new MultipartRefused('too_many_fields', `At most ${limits.fields} text fields may be sent.`)),
    );
    parser.on('partsLimit', () =>
      refuse(
        new MultipartRefused('too_many_fields', `At most ${limits.files + limits.fields} parts may be sent.`),
      ),
    );
    parser.on('error', (err: Error) => {
      req.unpipe(parser);
      req.resume();
      reject(new MultipartRefused('malformed', `Could not parse multipart form: ${err.message}`));
    });
    // Answered only once the whole request is read: a reply before its end makes Node close the
    // connection, which a client reusing it sees as a reset.
    const ended = new Promise<void>((done) => {
      if (req.readableEnded) done();
      else req.once('end', () => done());
    });
    parser.on('close', () => {
      void Promise.all([...reading, ended]).then(() => {
        if (refused) reject(refused);
        else {
          // Files in the order they were sent (each resolves when its part ends, in turn).
          resolve({ fields, files });
        }
      });
    });
    req.pipe(parser);
  });
}
