import { z } from 'zod';
import { estimateBody } from '../routes/account';
import {
  accountsQuery,
  createAccountBody,
  grantBody,
  issueKeyBody,
  ledgerQuery,
  patchAccountBody,
  releaseBody,
} from '../routes/admin';
import { payloadsBody } from '../routes/codec';
import { imagineBody } from '../routes/imagine';
import { getJobQuery, listJobsQuery, signedImageQuery } from '../routes/jobs';
import { generationsBody } from '../routes/openai';
import { editsFormBody, editsJsonBody } from '../routes/openai-edits';
import { usageQuery } from '../routes/usage';
import * as shape from './responses';

/**
 * The OpenAPI 3.1 document of the HTTP API, built from the zod schemas the routes parse their
 * input with and the answer schemas of ./responses.ts: `GET /openapi.json` serves it, `/docs`
 * renders it, `npm test` lints it and checks every answer of the integration tests against it.
 */

type Auth = 'none' | 'api_key' | 'admin' | 'metrics';
type Errors = 'easel' | 'openai';

interface Answer {
  description: string;
  /** A JSON body; `content` instead for other media types (a zod schema or a JSON Schema each). */
  schema?: z.ZodType;
  content?: Record<string, z.ZodType | Record<string, unknown>>;
  headers?: Record<string, { description: string; schema: Record<string, unknown> }>;
  /** Operations a client can call next with values of this answer (OpenAPI links). */
  links?: Record<string, { operationId: string; parameters: Record<string, string> }>;
}

interface Operation {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  auth: Auth;
  body?: z.ZodType;
  /** A multipart/form-data form of the body: its text fields and its file parts. */
  multipart?: { fields: z.ZodObject; files: Record<string, Record<string, unknown>>; required: string[] };
  query?: z.ZodObject;
  /** Path parameters' schemas by name; absent ones are plain strings. */
  pathParams?: Record<string, Record<string, unknown>>;
  headers?: Array<{ name: string; description: string; schema: Record<string, unknown> }>;
  /** The operation's own answers; the error answers every operation shares are added to them. */
  answers: Record<number, Answer>;
  /** Statuses of the error envelope this operation answers besides the shared ones. */
  refusals?: Record<number, string>;
  /** Refusals in OpenAI's shape (the OpenAI-compatible routes). */
  errors?: Errors;
  /** Whether reads are counted against `reads_per_second` (everything under /v1 past the catalog). */
  readLimited?: boolean;
}

const retryAfter = {
  'Retry-After': {
    description: 'Seconds to wait before trying again.',
    schema: { type: 'integer', minimum: 1 },
  },
};
const requestIdHeader = {
  'X-Request-Id': {
    description: 'The request id (the one sent, when it was a safe token): quote it when asking for help.',
    schema: { type: 'string' },
  },
};
const idempotencyKey = {
  name: 'Idempotency-Key',
  description:
    'Retries with the same key and body return the same job instead of submitting (and charging) another; ' +
    'the same key with another body is refused with 422.',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};

const jobAnswer = (description: string): Answer => ({ description, schema: shape.jobView });

/** From an answer naming a job to the operations on it. */
const jobLinks = (id: string): Answer['links'] => ({
  GetJob: { operationId: 'getJob', parameters: { id } },
  CancelJob: { operationId: 'cancelJob', parameters: { id } },
  AdminGetJob: { operationId: 'adminGetJob', parameters: { id } },
});

/** The 200 of OpenAI's Images API: the images, or the stream of events of `eventSchema`. */
const openAiImageAnswer = (eventSchema: z.ZodType): Answer => ({
  description: 'The images (`b64_json` by default for gpt-image models), or an event stream.',
  links: jobLinks('$response.body#/easel/job_id'),
  // Each event: one `image_generation.completed` / `image_edit.completed` per image, or one `error`.
  content: { 'application/json': shape.openAiImages, 'text/event-stream': eventSchema },
});

/** The refusals both OpenAI-compatible image operations answer besides the shared ones. */
const OPENAI_IMAGE_REFUSALS: Record<number, string> = {
  404: 'Unknown model.',
  409: 'An Idempotency-Key whose job could not be written: submit under a new key.',
  422: 'The Idempotency-Key was used with another body.',
  502: 'The job failed upstream (`code` says why, `job_id` names it).',
  503: 'The workflow service did not answer: nothing is held; retry.',
  504: 'The images were not ready in time: the job keeps running (`job_id`); do not retry.',
};

/** From an answer naming an account to the admin operations on it. */
const accountLinks = (id: string): Answer['links'] => ({
  GetAccount: { operationId: 'adminGetAccount', parameters: { id } },
  UpdateAccount: { operationId: 'adminUpdateAccount', parameters: { id } },
  IssueKey: { operationId: 'adminIssueKey', parameters: { id } },
  ListKeys: { operationId: 'adminListKeys', parameters: { id } },
  GrantCredits: { operationId: 'adminGrantCredits', parameters: { id } },
  Ledger: { operationId: 'adminLedger', parameters: { id } },
});

const OPERATIONS: Operation[] = [
  // Operations
  {
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    tag: 'Operations',
    summary: 'Liveness: the process answers',
    auth: 'none',
    answers: { 200: { description: 'Alive.', schema: shape.health } },
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'readiness',
    tag: 'Operations',
    summary: 'Readiness: MongoDB and Temporal reachable',
    description: 'What is down is public; why (with internal addresses) only with the admin token.',
    auth: 'none',
    answers: {
      200: { description: 'Ready.', schema: shape.readiness },
      503: { description: 'A dependency is down: `down` names it.', schema: shape.readiness },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'Operations',
    summary: 'Prometheus metrics (bearer EASEL_METRICS_TOKEN)',
    auth: 'metrics',
    answers: {
      200: {
        description: 'The Prometheus text exposition format.',
        content: { 'text/plain': { type: 'string' } },
      },
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openapi',
    tag: 'Operations',
    summary: 'This document',
    auth: 'none',
    answers: { 200: { description: 'OpenAPI 3.1.', content: { 'application/json': { type: 'object' } } } },
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'docs',
    tag: 'Operations',
    summary: 'The API reference, rendered from this document',
    auth: 'none',
    answers: { 200: { description: 'An HTML page.', content: { 'text/html': { type: 'string' } } } },
  },
  {
    method: 'get',
    path: '/console',
    operationId: 'console',
    tag: 'Operations',
    summary: 'The web console: playground, history and account (API key), accounts (admin token)',
    description:
      'A browser app served by this process; it signs in with a key kept in the tab and speaks only this API.',
    auth: 'none',
    answers: { 200: { description: 'An HTML page.', content: { 'text/html': { type: 'string' } } } },
  },

  // Catalog (no key needed)
  {
    method: 'get',
    path: '/v1/models',
    operationId: 'listModels',
    tag: 'Catalog',
    summary: 'The catalog models, their credits, and the tasks `auto` routes',
    auth: 'none',
    answers: { 200: { description: 'OpenAI model objects with Easel fields.', schema: shape.modelList } },
  },
  {
    method: 'get',
    path: '/v1/models/{id}',
    operationId: 'getModel',
    tag: 'Catalog',
    summary: 'One catalog model',
    auth: 'none',
    answers: { 200: { description: 'The model.', schema: shape.modelView } },
    refusals: { 404: 'No such model (in OpenAI’s error shape, `code: model_not_found`).' },
    errors: 'openai',
  },
  {
    method: 'get',
    path: '/v1/plans',
    operationId: 'listPlans',
    tag: 'Catalog',
    summary: 'Plans: price, monthly credits, rate limits',
    auth: 'none',
    answers: { 200: { description: 'The plans.', schema: shape.planList } },
  },
  {
    method: 'post',
    path: '/v1/estimate',
    operationId: 'estimate',
    tag: 'Catalog',
    summary: 'Credits and USD per plan for a model (or task) and a count',
    auth: 'none',
    body: estimateBody,
    answers: { 200: { description: 'The estimate.', schema: shape.estimate } },
  },

  // Jobs
  {
    method: 'post',
    path: '/v1/imagine',
    operationId: 'imagine',
    tag: 'Jobs',
    summary: 'Submit an image job',
    description:
      'Reserves `credits(model) × n` from the balance and starts the job; the answer comes once the credits ' +
      'are held. Follow the job at `Location` (`GET /v1/jobs/{id}?wait=N`) or by webhook. Also served at `/imagine`.',
    auth: 'api_key',
    body: imagineBody,
    headers: [idempotencyKey],
    answers: {
      202: {
        ...jobAnswer(
          'Accepted: the credits are reserved (a repeated Idempotency-Key returns its job as it stands).',
        ),
        headers: { Location: { description: 'The job.', schema: { type: 'string' } } },
      },
    },
    refusals: {
      402: 'Too few credits: nothing was reserved and no job is left (`details.required`, `details.available`).',
      409: 'An Idempotency-Key whose job could not be written: submit under a new key.',
      422: 'The Idempotency-Key was used with another body.',
      503: 'The workflow service did not answer: the credits were released; retry in a few seconds.',
    },
  },
  {
    method: 'get',
    path: '/v1/jobs/{id}',
    operationId: 'getJob',
    tag: 'Jobs',
    summary: 'A job (long-polls with `wait`)',
    auth: 'api_key',
    query: getJobQuery,
    readLimited: true,
    answers: {
      200: {
        ...jobAnswer('The job; with `wait`, once it is terminal or the wait is over.'),
        links: jobLinks('$response.body#/id'),
      },
    },
    refusals: { 404: 'No such job of this account.' },
  },
  {
    method: 'get',
    path: '/v1/jobs',
    operationId: 'listJobs',
    tag: 'Jobs',
    summary: 'The account’s jobs, newest first',
    description:
      'With a status filter a page may hold fewer than `limit` jobs and still have more after it: follow ' +
      '`next_cursor` until it is null.',
    auth: 'api_key',
    query: listJobsQuery,
    readLimited: true,
    answers: { 200: { description: 'A page of jobs.', schema: shape.jobPage } },
  },
  {
    method: 'post',
    path: '/v1/jobs/{id}/cancel',
    operationId: 'cancelJob',
    tag: 'Jobs',
    summary: 'Cancel a job (its credits are released)',
    auth: 'api_key',
    readLimited: true,
    answers: {
      200: jobAnswer('Canceled: the credits are released.'),
      202: jobAnswer('The cancel is under way (the job had not settled within 10 s).'),
    },
    refusals: {
      404: 'No such job of this account.',
      409: 'The job had already finished, or finished its own way first (`details.job`).',
    },
  },
  {
    method: 'get',
    path: '/images/{key}',
    operationId: 'getImage',
    tag: 'Jobs',
    summary: 'A stored image, at the signed URL a job gave',
    auth: 'none',
    query: signedImageQuery,
    answers: {
      200: {
        description: 'The image bytes.',
        content: {
          'image/png': { type: 'string', contentMediaType: 'image/png' },
          'image/jpeg': { type: 'string', contentMediaType: 'image/jpeg' },
          'image/webp': { type: 'string', contentMediaType: 'image/webp' },
        },
      },
    },
    refusals: {
      403: 'The URL is not valid or has expired (`image_url_expired`): read the job again for a fresh one; or the account is suspended.',
      404: 'The image is gone (deleted by the retention period).',
    },
  },

  // Account
  {
    method: 'get',
    path: '/v1/account',
    operationId: 'getAccount',
    tag: 'Account',
    summary: 'The account: plan, balance, rate limits, period',
    auth: 'api_key',
    readLimited: true,
    answers: { 200: { description: 'The account.', schema: shape.accountView } },
  },
  {
    method: 'get',
    path: '/v1/usage',
    operationId: 'getUsage',
    tag: 'Account',
    summary: 'Usage by model or by day, in whole UTC days',
    description:
      'From the start of `from`’s day to the end of the day before `to` (exclusive); the last 30 days by default.',
    auth: 'api_key',
    query: usageQuery,
    readLimited: true,
    answers: { 200: { description: 'The report.', schema: shape.usageReport } },
  },
  {
    method: 'get',
    path: '/v1/webhooks/secret',
    operationId: 'getWebhookSecret',
    tag: 'Account',
    summary: 'The account’s Standard Webhooks signing secret',
    auth: 'api_key',
    readLimited: true,
    answers: { 200: { description: 'The secret.', schema: shape.webhookSecret } },
  },
  {
    method: 'post',
    path: '/v1/webhooks/secret/rotate',
    operationId: 'rotateWebhookSecret',
    tag: 'Account',
    summary: 'Replace the signing secret (the previous one keeps signing for 24 hours)',
    auth: 'api_key',
    readLimited: true,
    answers: { 201: { description: 'The new secret.', schema: shape.rotatedWebhookSecret } },
  },

  // OpenAI-compatible
  {
    method: 'post',
    path: '/v1/images/generations',
    operationId: 'createImageOpenAI',
    tag: 'OpenAI-compatible',
    summary: 'OpenAI’s Images API: generate, synchronously',
    description:
      'The same credits, limits, routing and ledger as `/v1/imagine`, answered when the images are ready ' +
      '(or streamed as OpenAI’s server-sent events with `stream: true`). A wait that runs out answers 504 with ' +
      '`x-should-retry: false` and the job id: the job keeps running and is charged once.',
    auth: 'api_key',
    body: generationsBody,
    headers: [idempotencyKey],
    readLimited: true,
    errors: 'openai',
    answers: { 200: openAiImageAnswer(shape.openAiImageEvent) },
    refusals: OPENAI_IMAGE_REFUSALS,
  },

  {
    method: 'post',
    path: '/v1/images/edits',
    operationId: 'editImageOpenAI',
    tag: 'OpenAI-compatible',
    summary: 'OpenAI’s Images API: edit images, synchronously',
    description:
      'Multipart with `image` or `image[]` files (PNG, JPEG or WebP, at most 8, 25 MB each) and an optional ' +
      'PNG `mask` of the first image’s size, as the official clients send it; or JSON with ' +
      '`images: [{image_url}]` and `mask: {image_url}`. The files become the job’s input images (never ' +
      'charged); the rest is as `POST /v1/images/generations`.',
    auth: 'api_key',
    body: editsJsonBody,
    multipart: {
      fields: editsFormBody,
      files: {
        image: {
          description: 'One image, or several under repeated `image[]` parts.',
          type: 'string',
          contentMediaType: 'application/octet-stream',
        },
        'image[]': {
          type: 'array',
          maxItems: 8,
          items: { type: 'string', contentMediaType: 'application/octet-stream' },
        },
        mask: {
          description: 'A PNG of less than 4 MB and of the first image’s size: transparent where to edit.',
          type: 'string',
          contentMediaType: 'image/png',
        },
      },
      required: ['prompt'],
    },
    headers: [idempotencyKey],
    readLimited: true,
    errors: 'openai',
    answers: { 200: openAiImageAnswer(shape.openAiImageEditEvent) },
    refusals: { ...OPENAI_IMAGE_REFUSALS, 413: 'A file is over 25 MB, or the JSON body over 1 MB.' },
  },

  // Admin
  {
    method: 'get',
    path: '/admin/v1/accounts',
    operationId: 'adminListAccounts',
    tag: 'Admin',
    summary: 'Accounts, paged; `q` finds one by id or by part of its name',
    auth: 'admin',
    query: accountsQuery,
    answers: { 200: { description: 'A page of accounts.', schema: shape.accountPage } },
  },
  {
    method: 'post',
    path: '/admin/v1/accounts',
    operationId: 'adminCreateAccount',
    tag: 'Admin',
    summary: 'Create an account (trial credits granted)',
    auth: 'admin',
    body: createAccountBody,
    answers: {
      201: {
        description: 'The account.',
        schema: shape.accountView,
        links: accountLinks('$response.body#/id'),
      },
    },
  },
  {
    method: 'get',
    path: '/admin/v1/accounts/{id}',
    operationId: 'adminGetAccount',
    tag: 'Admin',
    summary: 'An account',
    auth: 'admin',
    answers: { 200: { description: 'The account.', schema: shape.accountView } },
    refusals: { 404: 'No such account.' },
  },
  {
    method: 'patch',
    path: '/admin/v1/accounts/{id}',
    operationId: 'adminUpdateAccount',
    tag: 'Admin',
    summary: 'Change an account’s name, plan, status or rate-limit overrides',
    auth: 'admin',
    body: patchAccountBody,
    answers: { 200: { description: 'The account.', schema: shape.accountView } },
    refusals: { 404: 'No such account.' },
  },
  {
    method: 'post',
    path: '/admin/v1/accounts/{id}/keys',
    operationId: 'adminIssueKey',
    tag: 'Admin',
    summary: 'Issue an API key (shown once)',
    auth: 'admin',
    body: issueKeyBody,
    answers: {
      201: {
        description: 'The key.',
        schema: shape.issuedKey,
        links: { RevokeKey: { operationId: 'adminRevokeKey', parameters: { keyId: '$response.body#/id' } } },
      },
    },
    refusals: { 404: 'No such account.' },
  },
  {
    method: 'get',
    path: '/admin/v1/accounts/{id}/keys',
    operationId: 'adminListKeys',
    tag: 'Admin',
    summary: 'An account’s keys (prefixes only)',
    auth: 'admin',
    answers: { 200: { description: 'The keys.', schema: shape.keyList } },
    refusals: { 404: 'No such account.' },
  },
  {
    method: 'delete',
    path: '/admin/v1/keys/{keyId}',
    operationId: 'adminRevokeKey',
    tag: 'Admin',
    summary: 'Revoke a key',
    auth: 'admin',
    answers: { 204: { description: 'Revoked.' } },
    refusals: { 404: 'No such key.' },
  },
  {
    method: 'post',
    path: '/admin/v1/accounts/{id}/grants',
    operationId: 'adminGrantCredits',
    tag: 'Admin',
    summary: 'Grant credits (idempotent by `idempotency_key`)',
    auth: 'admin',
    body: grantBody,
    answers: {
      200: {
        description: 'A replay of an earlier grant: nothing new was granted.',
        schema: shape.grantResult,
      },
      201: { description: 'Granted.', schema: shape.grantResult },
    },
    refusals: {
      404: 'No such account.',
      409: 'The idempotency key was used for another movement (`code: idempotency_key_conflict`).',
    },
  },
  {
    method: 'get',
    path: '/admin/v1/accounts/{id}/ledger',
    operationId: 'adminLedger',
    tag: 'Admin',
    summary: 'An account’s ledger, newest first',
    auth: 'admin',
    query: ledgerQuery,
    answers: { 200: { description: 'A page of entries.', schema: shape.ledgerPage } },
    refusals: { 404: 'No such account.' },
  },
  {
    method: 'post',
    path: '/admin/v1/accounts/{id}/reservations/{seq}/release',
    operationId: 'adminReleaseReservation',
    tag: 'Admin',
    summary: 'Release a stuck reservation (itself a ledger movement)',
    auth: 'admin',
    body: releaseBody,
    pathParams: { seq: { type: 'integer', minimum: 1 } },
    answers: { 200: { description: 'Released.', schema: shape.releaseResult } },
    refusals: {
      404: 'No such account or reservation.',
      409: 'Already settled, or its job is still running (its workflow will settle it).',
    },
  },
  {
    method: 'get',
    path: '/admin/v1/jobs/{id}',
    operationId: 'adminGetJob',
    tag: 'Admin',
    summary: 'Any account’s job, with its reservation and ledger movements',
    auth: 'admin',
    answers: { 200: { description: 'The job.', schema: shape.adminJobView } },
    refusals: { 404: 'No such job.' },
  },
  {
    method: 'get',
    path: '/admin/v1/providers',
    operationId: 'adminProviders',
    tag: 'Admin',
    summary: 'Deployments with each live worker’s breaker state, latency, error rate and fallbacks',
    auth: 'admin',
    answers: { 200: { description: 'The deployments.', schema: shape.providerStatus } },
  },
  {
    method: 'post',
    path: '/admin/v1/audit',
    operationId: 'adminAudit',
    tag: 'Admin',
    summary: 'Check every ledger invariant and the books',
    auth: 'admin',
    answers: {
      200: { description: 'The report (empty `violations` when sound).', schema: shape.auditReport },
    },
  },
  ...(['encode', 'decode'] as const).flatMap((direction): Operation[] =>
    ['/codec', '/codec/{namespace}'].map((base) => ({
      method: 'post',
      path: `${base}/${direction}`,
      operationId: `codec${direction === 'encode' ? 'Encode' : 'Decode'}${base === '/codec' ? '' : 'InNamespace'}`,
      tag: 'Admin',
      summary: `Temporal codec server: ${direction} payloads`,
      description:
        'The Temporal UI’s and CLI’s remote codec protocol; decoding shows prompts, so it takes the admin token.',
      auth: 'admin',
      body: payloadsBody,
      answers: { 200: { description: `The payloads, ${direction}d.`, schema: shape.codecPayloads } },
    })),
  ),
];

const jsonSchemaOf = (schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> =>
  z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' });

/**
 * A zod schema as an OpenAPI schema: its `$defs` (the schemas with an `id`) move to
 * `components.schemas`, where every operation refers to them.
 */
function componentised(
  schema: z.ZodType,
  io: 'input' | 'output',
  components: Record<string, unknown>,
): Record<string, unknown> {
  const { $schema: _dialect, $defs, ...rest } = jsonSchemaOf(schema, io);
  const retarget = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(retarget);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string' ? v.replace('#/$defs/', '#/components/schemas/') : retarget(v),
      ]),
    );
  };
  for (const [name, def] of Object.entries(($defs ?? {}) as Record<string, unknown>)) {
    components[name] = retarget(def);
  }
  return retarget(rest) as Record<string, unknown>;
}

function queryParameters(query: z.ZodObject): Array<Record<string, unknown>> {
  const json = jsonSchemaOf(query, 'input') as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    ...(typeof schema.description === 'string' && { description: schema.description }),
    schema,
  }));
}

/** A multipart body: its text fields' schema with the file parts added. */
function formSchema(
  form: NonNullable<Operation['multipart']>,
  catalog: OpenApiOptions['catalog'],
): Record<string, unknown> {
  const { $schema: _dialect, ...fields } = jsonSchemaOf(form.fields, 'input') as {
    $schema?: string;
    properties?: Record<string, unknown>;
  };
  return withCatalog(
    {
      ...fields,
      properties: { ...fields.properties, ...form.files },
      required: form.required,
    },
    catalog,
  );
}

const SECURITY: Record<Exclude<Auth, 'none'>, string> = {
  api_key: 'ApiKey',
  admin: 'AdminToken',
  metrics: 'MetricsToken',
};

/** Refusals every operation of a kind can answer. */
function sharedRefusals(op: Operation): Record<number, string> {
  const refusals: Record<number, string> = {};
  if (op.body || op.query || op.headers)
    refusals[400] = 'Invalid input: `details.fields` names each bad field.';
  if (op.auth !== 'none') refusals[401] = 'Missing or invalid credentials.';
  if (op.auth === 'api_key') refusals[403] = 'The account is suspended.';
  if (op.body) {
    refusals[413] = 'The body is over 1 MB.';
    refusals[415] = 'The body’s encoding or charset is not supported.';
  }
  if (op.auth === 'api_key' || op.readLimited) {
    refusals[429] = 'A plan limit was hit (`details.limit`): come back after `Retry-After` seconds.';
  }
  refusals[500] = 'A fault on Easel’s side: retry, quoting the request id if it persists.';
  return refusals;
}

export interface OpenApiOptions {
  /** Where the API is served (the `servers` entry); relative to the document when absent. */
  serverUrl?: string;
  /**
   * This Easel's catalog: `model`, `task` and `fallback_models` of request bodies then list the
   * values it takes (the route schemas take any string and refuse unknown ones with a 400).
   */
  catalog?: { models: readonly string[]; tasks: readonly string[] };
}

/** A request body's catalog fields narrowed to the catalog's values. */
function withCatalog(
  schema: Record<string, unknown>,
  catalog: OpenApiOptions['catalog'],
): Record<string, unknown> {
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (!catalog || !properties) return schema;
  const narrowed = { ...properties };
  const models = [...catalog.models, 'auto'];
  if (narrowed.model) narrowed.model = { ...narrowed.model, enum: models };
  if (narrowed.task) narrowed.task = { ...narrowed.task, enum: [...catalog.tasks] };
  const fallbacks = narrowed.fallback_models;
  if (fallbacks?.items)
    narrowed.fallback_models = { ...fallbacks, items: { type: 'string', enum: [...catalog.models] } };
  return { ...schema, properties: narrowed };
}

/** The API's version: the `/v1` of its paths (the document changes within it only compatibly). */
const API_VERSION = '1';

/** The whole document. */
export function openApiDocument(options: OpenApiOptions = {}): Record<string, unknown> {
  const components: Record<string, unknown> = {};
  const errorRef = (errors: Errors | undefined) =>
    componentised(
      errors === 'openai' ? shape.openAiErrorEnvelope : shape.errorEnvelope,
      'output',
      components,
    );
  const paths: Record<string, Record<string, unknown>> = {};

  for (const op of OPERATIONS) {
    const pathParams = [...op.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
      name,
      in: 'path',
      required: true,
      schema: op.pathParams?.[name!] ?? { type: 'string', minLength: 1 },
    }));
    const responses: Record<string, unknown> = {};
    for (const [status, answer] of Object.entries(op.answers)) {
      const bodies = answer.content ?? (answer.schema && { 'application/json': answer.schema });
      const content =
        bodies &&
        Object.fromEntries(
          Object.entries(bodies).map(([type, schema]) => [
            type,
            { schema: schema instanceof z.ZodType ? componentised(schema, 'output', components) : schema },
          ]),
        );
      responses[status] = {
        description: answer.description,
        headers: { ...requestIdHeader, ...answer.headers },
        ...(content && { content }),
        ...(answer.links && { links: answer.links }),
      };
    }
    for (const [status, description] of Object.entries({ ...sharedRefusals(op), ...op.refusals })) {
      responses[status] ??= {
        description,
        headers: { ...requestIdHeader, ...(status === '429' && retryAfter) },
        content: { 'application/json': { schema: errorRef(op.errors) } },
      };
    }
    (paths[op.path] ??= {})[op.method] = {
      operationId: op.operationId,
      tags: [op.tag],
      summary: op.summary,
      ...(op.description && { description: op.description }),
      security: op.auth === 'none' ? [] : [{ [SECURITY[op.auth]]: [] }],
      parameters: [
        ...pathParams,
        ...(op.query ? queryParameters(op.query) : []),
        ...(op.headers ?? []).map((h) => ({ ...h, in: 'header', required: false })),
      ],
      ...(op.body && {
        requestBody: {
          // A body whose every field is optional may be left out.
          required: !op.body.safeParse({}).success,
          content: {
            'application/json': {
              schema: withCatalog(componentised(op.body, 'input', components), options.catalog),
            },
            ...(op.multipart && {
              'multipart/form-data': { schema: formSchema(op.multipart, options.catalog) },
            }),
          },
        },
      }),
      responses,
    };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Easel',
      version: API_VERSION,
      summary: 'Self-hosted image generation: prepaid credits, durable jobs, routed upstream providers.',
      description:
        'Submit a job with `POST /v1/imagine` (or use the OpenAI-compatible `POST /v1/images/generations`), ' +
        'follow it with `GET /v1/jobs/{id}?wait=N` or a webhook. Credits are reserved on submission, charged ' +
        'only on success and released on failure or cancel. Errors are `{error: {code, message, details?}}`.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: options.serverUrl ?? '/', description: 'This Easel' }],
    tags: [
      { name: 'Jobs', description: 'Submit, follow and cancel image jobs; fetch their images.' },
      { name: 'Catalog', description: 'Models, plans and estimates: no key needed.' },
      { name: 'Account', description: 'The key’s own account: balance, usage, webhook secret.' },
      { name: 'OpenAI-compatible', description: 'OpenAI’s Images API, for the official `openai` clients.' },
      {
        name: 'Admin',
        description: 'Operators: accounts, keys, credits, providers, audit (EASEL_ADMIN_TOKEN).',
      },
      { name: 'Operations', description: 'Health, readiness, metrics and this document.' },
    ],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        ApiKey: { type: 'http', scheme: 'bearer', description: 'An account’s API key.' },
        AdminToken: { type: 'http', scheme: 'bearer', description: 'EASEL_ADMIN_TOKEN.' },
        MetricsToken: { type: 'http', scheme: 'bearer', description: 'EASEL_METRICS_TOKEN.' },
      },
    },
  };
}
