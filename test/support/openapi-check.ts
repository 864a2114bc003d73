import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Answer } from '../../api/app';
import { openApiDocument } from '../../api/openapi/document';

interface MediaType {
  schema?: Record<string, unknown>;
}
interface DocumentedAnswer {
  content?: Record<string, MediaType>;
}
interface DocumentedOperation {
  responses: Record<string, DocumentedAnswer>;
}

/** Paths served that are not API operations: the static files of the reference page and the console. */
const NOT_OPERATIONS = [/^\/docs\/assets\//, /^\/docs\/init\.js$/, /^\/console\/assets\//];

/** Paths the API also answers under another name. */
const ALIASES: Record<string, string> = { '/imagine': '/v1/imagine' };

/**
 * Checks answers against the OpenAPI document (`api/openapi/document.ts`): the status must be one
 * the operation documents, the content type one documented for it, and a JSON body must match the
 * schema — so that the document cannot drift from what the code answers. Requests to no
 * operation must get the error envelope. Violations are collected; `startTestEasel`'s `stop`
 * fails the test file that produced any.
 */
export class AnswerChecker {
  readonly violations: string[] = [];
  private readonly document = openApiDocument() as {
    paths: Record<string, Record<string, DocumentedOperation>>;
    components: { schemas: Record<string, Record<string, unknown>> };
  };
  private readonly ajv = new Ajv2020({ strict: false, allErrors: false });
  private readonly templates: Array<{ template: string; pattern: RegExp }>;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor() {
    addFormats(this.ajv);
    for (const [name, schema] of Object.entries(this.document.components.schemas)) {
      this.ajv.addSchema(schema, `#/components/schemas/${name}`);
    }
    this.templates = Object.keys(this.document.paths).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/\./g, '\\.').replace(/\{\w+\}/g, '[^/]+')}$`),
    }));
  }

  readonly observe = (answer: Answer): void => {
    const problem = this.problemOf(answer);
    if (problem) this.violations.push(`${answer.method} ${answer.path} → ${answer.status}: ${problem}`);
  };

  private problemOf(answer: Answer): string | undefined {
    if (answer.method === 'OPTIONS' || answer.method === 'HEAD') return undefined;
    if (NOT_OPERATIONS.some((p) => p.test(answer.path))) return undefined;
    const path = ALIASES[answer.path] ?? answer.path;
    const template = this.templates.find((t) => t.pattern.test(path))?.template;
    const operation = template ? this.document.paths[template]?.[answer.method.toLowerCase()] : undefined;
    if (!template || !operation) {
      // No such operation: the 404 of the error envelope (or an error the HTTP layer answers first).
      return answer.status >= 400
        ? this.bodyProblem('#/components/schemas/Error', answer.body)
        : 'an answer to a path and method the document does not have';
    }
    const documented = operation.responses[String(answer.status)];
    if (!documented) return `status ${answer.status} is not documented for ${answer.method} ${template}`;
    if (!documented.content) {
      return answer.contentType && answer.status !== 204 && answer.body !== undefined
        ? 'a body where the document has none'
        : undefined;
    }
    const mediaType = answer.contentType?.split(';')[0]?.trim();
    const media = mediaType ? documented.content[mediaType] : undefined;
    if (!media) {
      return `content type ${mediaType ?? '(none)'} is not documented (${Object.keys(documented.content).join(', ')})`;
    }
    if (mediaType !== 'application/json' || !media.schema) return undefined;
    if (answer.body === undefined) return 'a JSON answer that was not sent with res.json or res.send';
    const key = `${template} ${answer.method} ${answer.status}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(media.schema);
      this.validators.set(key, validate);
    }
    return this.validated(validate, answer.body);
  }

  private bodyProblem(ref: string, body: string | undefined): string | undefined {
    const validate = this.ajv.getSchema(ref);
    if (!validate) return `no schema ${ref}`;
    return this.validated(validate, body);
  }

  /** Checks the body's text as the client received it against the schema. */
  private validated(validate: ValidateFunction, body: string | undefined): string | undefined {
    let parsed: unknown = null;
    if (body !== undefined) {
      try {
        parsed = JSON.parse(body);
      } catch {
        return 'a body sent as JSON that does not parse';
      }
    }
    if (validate(parsed)) return undefined;
    const first = validate.errors?.[0];
    return `body does not match the schema: ${first?.instancePath || '(root)'} ${first?.message ?? ''} ${
      first?.params ? JSON.stringify(first.params) : ''
    }`.trim();
  }
}
