// Generated from the OpenAPI document by `npm run console:types` (infra/console/api-types.ts): do not edit.

export interface paths {
  '/healthz': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Liveness: the process answers */
    get: operations['health'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/readyz': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Readiness: MongoDB and Temporal reachable
     * @description What is down is public; why (with internal addresses) only with the admin token.
     */
    get: operations['readiness'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/metrics': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Prometheus metrics (bearer EASEL_METRICS_TOKEN) */
    get: operations['metrics'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/openapi.json': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** This document */
    get: operations['openapi'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/docs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The API reference, rendered from this document */
    get: operations['docs'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/console': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The web console: playground, history and account (API key), accounts (admin token)
     * @description A browser app served by this process; it signs in with a key kept in the tab and speaks only this API.
     */
    get: operations['console'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/models': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The catalog models, their credits, and the tasks `auto` routes */
    get: operations['listModels'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/models/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One catalog model */
    get: operations['getModel'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/plans': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Plans: price, monthly credits, rate limits */
    get: operations['listPlans'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/estimate': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Credits and USD per plan for a model (or task) and a count */
    post: operations['estimate'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/imagine': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Submit an image job
     * @description Reserves `credits(model) × n` from the balance and starts the job; the answer comes once the credits are held. Follow the job at `Location` (`GET /v1/jobs/{id}?wait=N`) or by webhook. Also served at `/imagine`.
     */
    post: operations['imagine'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/jobs/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A job (long-polls with `wait`) */
    get: operations['getJob'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/jobs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The account’s jobs, newest first
     * @description With a status filter a page may hold fewer than `limit` jobs and still have more after it: follow `next_cursor` until it is null.
     */
    get: operations['listJobs'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/jobs/{id}/cancel': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Cancel a job (its credits are released) */
    post: operations['cancelJob'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/images/{key}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A stored image, at the signed URL a job gave */
    get: operations['getImage'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/account': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The account: plan, balance, rate limits, period */
    get: operations['getAccount'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/usage': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Usage by model or by day, in whole UTC days
     * @description From the start of `from`’s day to the end of the day before `to` (exclusive); the last 30 days by default.
     */
    get: operations['getUsage'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/webhooks/secret': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The account’s Standard Webhooks signing secret */
    get: operations['getWebhookSecret'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/webhooks/secret/rotate': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Replace the signing secret (the previous one keeps signing for 24 hours) */
    post: operations['rotateWebhookSecret'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/images/generations': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * OpenAI’s Images API: generate, synchronously
     * @description The same credits, limits, routing and ledger as `/v1/imagine`, answered when the images are ready (or streamed as OpenAI’s server-sent events with `stream: true`). A wait that runs out answers 504 with `x-should-retry: false` and the job id: the job keeps running and is charged once.
     */
    post: operations['createImageOpenAI'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/images/edits': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * OpenAI’s Images API: edit images, synchronously
     * @description Multipart with `image` or `image[]` files (PNG, JPEG or WebP, at most 8, 25 MB each) and an optional PNG `mask` of the first image’s size, as the official clients send it; or JSON with `images: [{image_url}]` and `mask: {image_url}`. The files become the job’s input images (never charged); the rest is as `POST /v1/images/generations`.
     */
    post: operations['editImageOpenAI'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/admin/v1/accounts': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Accounts, paged; `q` finds one by id or by part of its name */
    get: operations['adminListAccounts'];
    put?: never;
    /** Create an account (trial credits granted) */
    post: operations['adminCreateAccount'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/admin/v1/accounts/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** An account */
    get: operations['adminGetAccount'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /** Change an account’s name, plan, status or rate-limit overrides */
    patch: operations['adminUpdateAccount'];
    trace?: never;
  };
  '/admin/v1/accounts/{id}/keys': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** An account’s keys (prefixes only) */
    get: operations['adminListKeys'];
    put?: never;
    /** Issue an API key (shown once) */
    post: operations['adminIssueKey'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/admin/v1/keys/{keyId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Revoke a key */
    delete: operations['adminRevokeKey'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/admin/v1/accounts/{id}/grants': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Grant credits (idempotent by `idempotency_key`) */
    post: operations['adminGrantCredits'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/admin/v1/accounts/{id}/ledger': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** An account’s ledger, newest first */
    get: operations['adminLedger'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/admin/v1/accounts/{id}/reservations/{seq}/release': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Release a stuck reservation (itself a ledger movement) */
    post: operations['adminReleaseReservation'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/admin/v1/jobs/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Any account’s job, with its reservation and ledger movements */
    get: operations['adminGetJob'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/admin/v1/providers': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Deployments with each live worker’s breaker state, latency, error rate and fallbacks */
    get: operations['adminProviders'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/admin/v1/audit': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Check every ledger invariant and the books */
    post: operations['adminAudit'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/codec/encode': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Temporal codec server: encode payloads
     * @description The Temporal UI’s and CLI’s remote codec protocol; decoding shows prompts, so it takes the admin token.
     */
    post: operations['codecEncode'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/codec/{namespace}/encode': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Temporal codec server: encode payloads
     * @description The Temporal UI’s and CLI’s remote codec protocol; decoding shows prompts, so it takes the admin token.
     */
    post: operations['codecEncodeInNamespace'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/codec/decode': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Temporal codec server: decode payloads
     * @description The Temporal UI’s and CLI’s remote codec protocol; decoding shows prompts, so it takes the admin token.
     */
    post: operations['codecDecode'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/codec/{namespace}/decode': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Temporal codec server: decode payloads
     * @description The Temporal UI’s and CLI’s remote codec protocol; decoding shows prompts, so it takes the admin token.
     */
    post: operations['codecDecodeInNamespace'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    Error: {
      error: {
        /** @description Stable, machine-readable: branch on it. */
        code: string;
        /** @description What happened and what to do next, for a person. */
        message: string;
        /** @description Code-specific facts: `fields` (bad input), `retry_after_seconds`, `job`… */
        details?: {
          [key: string]: unknown;
        };
      };
    };
    Model: {
      id: string;
      /** @constant */
      object: 'model';
      created: number;
      owned_by: string;
      credits: number;
      best_for: string;
      fallback_models: string[];
      auto_tasks: string[];
    };
    OpenAIError: {
      error: {
        message: string;
        type: string;
        param: string | null;
        code: string | null;
        /** @description The job behind a timeout or failure: fetch it at GET /v1/jobs/{id}. */
        job_id?: string;
      };
    };
    Job: {
      id: string;
      /** @constant */
      object: 'job';
      /** @enum {string} */
      status: 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';
      model: string;
      requested_model: string;
      task?: string;
      provider: string | null;
      /** @constant */
      sandbox?: true;
      notice?: string;
      prompt: string;
      negative_prompt?: string;
      n: number;
      /** @enum {string} */
      aspect_ratio: '1:1' | '16:9' | '9:16' | '4:3' | '3:4' | '3:2' | '2:3' | '21:9' | '9:21';
      seed?: number;
      /** @enum {string} */
      output_format?: 'png' | 'jpeg' | 'webp';
      credits_reserved: number;
      credits_charged: number;
      progress: number | null;
      queue_position: number | null;
      images: {
        /** @description Signed and expiring: read the job again for a fresh one. */
        url: string;
        /** @enum {string} */
        role: 'image' | 'grid' | 'candidate';
        width: number;
        height: number;
        content_type: string;
      }[];
      error: {
        code: string;
        message: string;
      } | null;
      attempts: {
        provider: string;
        model: string;
        outcome: string;
        duration_ms: number;
        error?: string;
        adaptations?: string[];
        upstream_usage?: {
          [key: string]: number;
        };
        /** @enum {string} */
        upstream_cancel?: 'cancelled' | 'unsupported' | 'failed';
      }[];
      fallback_models?: string[];
      webhook_url?: string;
      webhook?: {
        /** @enum {string} */
        state: 'pending' | 'delivered' | 'failed' | 'gone';
        attempts: {
          /** Format: date-time */
          at: string;
          status: number | null;
          /** @enum {string} */
          outcome: 'delivered' | 'failed' | 'gone' | 'refused';
          duration_ms: number;
          error?: string;
        }[];
      };
      metadata: {
        [key: string]: string;
      };
      idempotency_key?: string;
      /** Format: date-time */
      created_at: string;
      started_at: string | null;
      completed_at: string | null;
      images_deleted_at: string | null;
    };
    Account: {
      id: string;
      name: string;
      plan: string;
      /** @enum {string} */
      status: 'active' | 'suspended';
      rate_limits: {
        requests_per_second: number;
        concurrent_jobs: number;
        reads_per_second: number;
      };
      rate_limit_overrides: {
        requests_per_second?: number;
        concurrent_jobs?: number;
        reads_per_second?: number;
      } | null;
      balance: {
        available: number;
        plan_credits: number;
        purchased_credits: number;
        held: number;
        captured: number;
        granted: number;
        expired: number;
      };
      running_jobs: number;
      period: {
        /** Format: date-time */
        start: string;
        /** Format: date-time */
        end: string;
      } | null;
      /** Format: date-time */
      created_at: string;
    };
    OpenAIImagesResponse: {
      created: number;
      data: {
        url?: string;
        b64_json?: string;
        revised_prompt?: string;
      }[];
      size?: string;
      output_format?: string;
      usage?: {
        [key: string]: unknown;
      };
      /** @description Easel's own fields (OpenAI clients ignore them). */
      easel: {
        job_id: string;
        model: string;
        credits_charged: number;
      };
    };
    OpenAIImageEvent: {
      /** @enum {string} */
      event: 'image_generation.partial_image' | 'image_generation.completed' | 'error';
      /** @description `{type, b64_json, created_at, size, output_format, quality, background, usage}`, or `{type: "error", error}`. */
      data: string;
      id?: string;
      retry?: number;
    };
    OpenAIImageEditEvent: {
      /** @enum {string} */
      event: 'image_edit.partial_image' | 'image_edit.completed' | 'error';
      /** @description `{type, b64_json, created_at, size, output_format, quality, background, usage}`, or `{type: "error", error}`. */
      data: string;
      id?: string;
      retry?: number;
    };
    LedgerEntry: {
      account_id: string;
      seq: number;
      /** @enum {string} */
      kind: 'grant' | 'reserve' | 'capture' | 'release' | 'expire' | 'adjust';
      credits: number;
      idempotency_key: string;
      job_id?: string;
      reason?: string;
      /** @description A reserve entry: where its credits came from. */
      reservation?: {
        from_plan: number;
        from_purchased: number;
        period_start: string | null;
      };
      request_hash?: string;
      settles?: number;
      released?: number;
      expired?: number;
      balances: {
        plan: number;
        purchased: number;
        held: number;
        granted: number;
        captured: number;
        expired: number;
        open_reservations: number;
        period: {
          /** Format: date-time */
          start: string;
          /** Format: date-time */
          end: string;
        } | null;
        available: number;
      };
      /** Format: date-time */
      created_at: string;
    };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  health: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Alive. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @constant */
            status: 'ok';
          };
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  readiness: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Ready. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {string} */
            status: 'ready' | 'unavailable';
            down: string[];
            checks: {
              [key: string]: {
                ok: boolean;
                error?: string;
              };
            };
          };
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A dependency is down: `down` names it. */
      503: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {string} */
            status: 'ready' | 'unavailable';
            down: string[];
            checks: {
              [key: string]: {
                ok: boolean;
                error?: string;
              };
            };
          };
        };
      };
    };
  };
  metrics: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The Prometheus text exposition format. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  openapi: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OpenAPI 3.1. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, never>;
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  docs: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description An HTML page. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'text/html': string;
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  console: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description An HTML page. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'text/html': string;
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listModels: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OpenAI model objects with Easel fields. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @constant */
            object: 'list';
            data: components['schemas']['Model'][];
            auto: {
              description: string;
              tasks: {
                [key: string]: string;
              };
            };
          };
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getModel: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The model. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Model'];
        };
      };
      /** @description No such model (in OpenAI’s error shape, `code: model_not_found`). */
      404: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
    };
  };
  listPlans: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The plans. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            data: {
              id: string;
              price_usd: number;
              monthly_credits: number;
              usd_per_credit: number | null;
              rate_limits: {
                requests_per_second: number;
                concurrent_jobs: number;
                reads_per_second?: number;
              };
            }[];
            trial_credits: number;
            default_plan: string;
          };
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  estimate: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          model?: string;
          task?: string;
          /** @default 1 */
          count?: number;
        };
      };
    };
    responses: {
      /** @description The estimate. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            model: string;
            task?: string;
            count: number;
            credits_per_image: number;
            credits: number;
            plans: {
              plan: string;
              usd: number;
              usd_per_image: number;
            }[];
          };
        };
      };
      /** @description Invalid input: `details.fields` names each bad field. */
      400: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 1 MB. */
      413: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body’s encoding or charset is not supported. */
      415: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  imagine: {
    parameters: {
      query?: never;
      header?: {
        /** @description Retries with the same key and body return the same job instead of submitting (and charging) another; the same key with another body is refused with 422. */
        'Idempotency-Key'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          model: string;
          prompt: string;
          task?: string;
          /** @default 1 */
          n?: number;
          /**
           * @default 1:1
           * @enum {string}
           */
          aspect_ratio?: '1:1' | '16:9' | '9:16' | '4:3' | '3:4' | '3:2' | '2:3' | '21:9' | '9:21';
          seed?: number;
          negative_prompt?: string;
          image_urls?: string[];
          /** Format: uri */
          mask_url?: string;
          /** @enum {string} */
          output_format?: 'png' | 'jpeg' | 'webp';
          /** Format: uri */
          webhook_url?: string;
          metadata?: {
            [key: string]: string;
          };
          fallback_models?: string[];
        };
      };
    };
    responses: {
      /** @description Accepted: the credits are reserved (a repeated Idempotency-Key returns its job as it stands). */
      202: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          /** @description The job. */
          Location?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Job'];
        };
      };
      /** @description Invalid input: `details.fields` names each bad field. */
      400: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too few credits: nothing was reserved and no job is left (`details.required`, `details.available`). */
      402: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The account is suspended. */
      403: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An Idempotency-Key whose job could not be written: submit under a new key. */
      409: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 1 MB. */
      413: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body’s encoding or charset is not supported. */
      415: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The Idempotency-Key was used with another body. */
      422: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A plan limit was hit (`details.limit`): come back after `Retry-After` seconds. */
      429: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          /** @description Seconds to wait before trying again. */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The workflow service did not answer: the credits were released; retry in a few seconds. */
      503: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getJob: {
    parameters: {
      query?: {
        wait?: number;
      };
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The job; with `wait`, once it is terminal or the wait is over. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Job'];
        };
      };
      /** @description Invalid input: `details.fields` names each bad field. */
      400: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The account is suspended. */
      403: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No such job of this account. */
      404: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A plan limit was hit (`details.limit`): come back after `Retry-After` seconds. */
      429: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          /** @description Seconds to wait before trying again. */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listJobs: {
    parameters: {
      query?: {
        status?: 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';
        limit?: number;
        cursor?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of jobs. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            data: components['schemas']['Job'][];
            has_more: boolean;
            next_cursor: string | null;
          };
        };
      };
      /** @description Invalid input: `details.fields` names each bad field. */
      400: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The account is suspended. */
      403: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A plan limit was hit (`details.limit`): come back after `Retry-After` seconds. */
      429: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          /** @description Seconds to wait before trying again. */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  cancelJob: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Canceled: the credits are released. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Job'];
        };
      };
      /** @description The cancel is under way (the job had not settled within 10 s). */
      202: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Job'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The account is suspended. */
      403: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No such job of this account. */
      404: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The job had already finished, or finished its own way first (`details.job`). */
      409: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A plan limit was hit (`details.limit`): come back after `Retry-After` seconds. */
      429: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          /** @description Seconds to wait before trying again. */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getImage: {
    parameters: {
      query: {
        account: string;
        expires: number;
        signature: string;
      };
      header?: never;
      path: {
        key: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The image bytes. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'image/png': string;
          'image/jpeg': string;
          'image/webp': string;
        };
      };
      /** @description Invalid input: `details.fields` names each bad field. */
      400: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The URL is not valid or has expired (`image_url_expired`): read the job again for a fresh one; or the account is suspended. */
      403: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The image is gone (deleted by the retention period). */
      404: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getAccount: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The account. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Account'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The account is suspended. */
      403: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A plan limit was hit (`details.limit`): come back after `Retry-After` seconds. */
      429: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          /** @description Seconds to wait before trying again. */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getUsage: {
    parameters: {
      query?: {
        from?: string;
        to?: string;
        group_by?: 'model' | 'day';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The report. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** Format: date-time */
            from: string;
            /** Format: date-time */
            to: string;
            /** @enum {string} */
            group_by: 'model' | 'day';
            plan: string;
            total: {
              images: number;
              jobs_succeeded: number;
              jobs_failed: number;
              jobs_canceled: number;
              credits_charged: number;
              /** @description Reserved by failed and cancelled jobs, then released. */
              credits_not_charged: number;
              usd: number;
              /** @description For succeeded jobs that named a task: what `auto` routing would have charged. */
              auto: {
                jobs_with_task: number;
                credits_charged: number;
                credits_with_auto: number;
                credits_saved: number;
              };
            };
            data: {
              images: number;
              jobs_succeeded: number;
              jobs_failed: number;
              jobs_canceled: number;
              credits_charged: number;
              /** @description Reserved by failed and cancelled jobs, then released. */
              credits_not_charged: number;
              usd: number;
              /** @description For succeeded jobs that named a task: what `auto` routing would have charged. */
              auto: {
                jobs_with_task: number;
                credits_charged: number;
                credits_with_auto: number;
                credits_saved: number;
              };
              /** @description With group_by=model. */
              model?: string;
              /** @description With group_by=day (YYYY-MM-DD, UTC). */
              day?: string;
            }[];
          };
        };
      };
      /** @description Invalid input: `details.fields` names each bad field. */
      400: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The account is suspended. */
      403: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A plan limit was hit (`details.limit`): come back after `Retry-After` seconds. */
      429: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          /** @description Seconds to wait before trying again. */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getWebhookSecret: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The secret. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            secret: string;
            /** Format: date-time */
            created_at: string;
            also_signing_until: string[];
          };
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The account is suspended. */
      403: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A plan limit was hit (`details.limit`): come back after `Retry-After` seconds. */
      429: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          /** @description Seconds to wait before trying again. */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  rotateWebhookSecret: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The new secret. */
      201: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            secret: string;
            /** Format: date-time */
            created_at: string;
            note: string;
            previous_expires_at: string | null;
          };
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The account is suspended. */
      403: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A plan limit was hit (`details.limit`): come back after `Retry-After` seconds. */
      429: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          /** @description Seconds to wait before trying again. */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  createImageOpenAI: {
    parameters: {
      query?: never;
      header?: {
        /** @description Retries with the same key and body return the same job instead of submitting (and charging) another; the same key with another body is refused with 422. */
        'Idempotency-Key'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /** @default gpt-image-1 */
          model?: string;
          prompt: string;
          /** @default 1 */
          n?: number;
          /** @default auto */
          size?: string;
          /** @enum {string} */
          response_format?: 'url' | 'b64_json';
          /** @enum {string} */
          output_format?: 'png' | 'jpeg' | 'webp';
          output_compression?: number;
          /** @constant */
          quality?: 'auto';
          /** @constant */
          background?: 'auto';
          /** @default false */
          stream?: boolean;
          /** @constant */
          partial_images?: 0;
          user?: string;
          /** @constant */
          moderation?: 'auto';
          style?: unknown;
        };
      };
    };
    responses: {
      /** @description The images (`b64_json` by default for gpt-image models), or an event stream. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIImagesResponse'];
          'text/event-stream': components['schemas']['OpenAIImageEvent'];
        };
      };
      /** @description Invalid input: `details.fields` names each bad field. */
      400: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description The account is suspended. */
      403: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description Unknown model. */
      404: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description An Idempotency-Key whose job could not be written: submit under a new key. */
      409: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description The body is over 1 MB. */
      413: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description The body’s encoding or charset is not supported. */
      415: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description The Idempotency-Key was used with another body. */
      422: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description A plan limit was hit (`details.limit`): come back after `Retry-After` seconds. */
      429: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          /** @description Seconds to wait before trying again. */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description The job failed upstream (`code` says why, `job_id` names it). */
      502: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description The workflow service did not answer: nothing is held; retry. */
      503: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description The images were not ready in time: the job keeps running (`job_id`); do not retry. */
      504: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
    };
  };
  editImageOpenAI: {
    parameters: {
      query?: never;
      header?: {
        /** @description Retries with the same key and body return the same job instead of submitting (and charging) another; the same key with another body is refused with 422. */
        'Idempotency-Key'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /** @default gpt-image-1 */
          model?: string;
          prompt: string;
          /** @default 1 */
          n?: number;
          /** @default auto */
          size?: string;
          /** @enum {string} */
          response_format?: 'url' | 'b64_json';
          /** @enum {string} */
          output_format?: 'png' | 'jpeg' | 'webp';
          output_compression?: number;
          /** @constant */
          quality?: 'auto';
          /** @constant */
          background?: 'auto';
          /** @default false */
          stream?: boolean;
          /** @constant */
          partial_images?: 0;
          user?: string;
          /** @constant */
          input_fidelity?: 'low';
          /** @constant */
          moderation?: 'auto';
          images: {
            image_url?: string;
            file_id?: string;
          }[];
          mask?: {
            image_url?: string;
            file_id?: string;
          };
        };
        'multipart/form-data': {
          /** @default gpt-image-1 */
          model?: string;
          prompt: string;
          /** @default 1 */
          n?: number;
          /** @default auto */
          size?: string;
          /** @enum {string} */
          response_format?: 'url' | 'b64_json';
          /** @enum {string} */
          output_format?: 'png' | 'jpeg' | 'webp';
          output_compression?: number;
          /** @constant */
          quality?: 'auto';
          /** @constant */
          background?: 'auto';
          /** @default false */
          stream?: boolean;
          /** @constant */
          partial_images?: 0;
          user?: string;
          /** @constant */
          input_fidelity?: 'low';
          /** @description One image, or several under repeated `image[]` parts. */
          image?: string;
          'image[]'?: string[];
          /** @description A PNG of less than 4 MB and of the first image’s size: transparent where to edit. */
          mask?: string;
        };
      };
    };
    responses: {
      /** @description The images (`b64_json` by default for gpt-image models), or an event stream. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIImagesResponse'];
          'text/event-stream': components['schemas']['OpenAIImageEditEvent'];
        };
      };
      /** @description Invalid input: `details.fields` names each bad field. */
      400: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description The account is suspended. */
      403: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description Unknown model. */
      404: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description An Idempotency-Key whose job could not be written: submit under a new key. */
      409: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description A file is over 25 MB, or the JSON body over 1 MB. */
      413: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description The body’s encoding or charset is not supported. */
      415: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description The Idempotency-Key was used with another body. */
      422: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description A plan limit was hit (`details.limit`): come back after `Retry-After` seconds. */
      429: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          /** @description Seconds to wait before trying again. */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description The job failed upstream (`code` says why, `job_id` names it). */
      502: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description The workflow service did not answer: nothing is held; retry. */
      503: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
      /** @description The images were not ready in time: the job keeps running (`job_id`); do not retry. */
      504: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenAIError'];
        };
      };
    };
  };
  adminListAccounts: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
        status?: 'active' | 'suspended';
        /** @description Finds the account with this id, and those whose name contains it (any case). */
        q?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of accounts. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            data: components['schemas']['Account'][];
            has_more: boolean;
            next_cursor: string | null;
          };
        };
      };
      /** @description Invalid input: `details.fields` names each bad field. */
      400: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  adminCreateAccount: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          name: string;
          plan?: string;
        };
      };
    };
    responses: {
      /** @description The account. */
      201: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Account'];
        };
      };
      /** @description Invalid input: `details.fields` names each bad field. */
      400: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 1 MB. */
      413: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body’s encoding or charset is not supported. */
      415: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  adminGetAccount: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The account. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Account'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No such account. */
      404: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  adminUpdateAccount: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          name?: string;
          plan?: string;
          /** @enum {string} */
          status?: 'active' | 'suspended';
          rate_limits?: {
            requests_per_second?: number | null;
            concurrent_jobs?: number | null;
            reads_per_second?: number | null;
          } | null;
        };
      };
    };
    responses: {
      /** @description The account. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Account'];
        };
      };
      /** @description Invalid input: `details.fields` names each bad field. */
      400: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No such account. */
      404: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 1 MB. */
      413: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body’s encoding or charset is not supported. */
      415: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  adminListKeys: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The keys. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            data: {
              id: string;
              prefix: string;
              name: string | null;
              /** Format: date-time */
              created_at: string;
              revoked_at: string | null;
            }[];
          };
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No such account. */
      404: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  adminIssueKey: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          name?: string;
        };
      };
    };
    responses: {
      /** @description The key. */
      201: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            id: string;
            /** @description The secret: shown only in this answer. */
            key: string;
            prefix: string;
            note: string;
          };
        };
      };
      /** @description Invalid input: `details.fields` names each bad field. */
      400: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No such account. */
      404: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 1 MB. */
      413: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body’s encoding or charset is not supported. */
      415: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  adminRevokeKey: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        keyId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Revoked. */
      204: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No such key. */
      404: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  adminGrantCredits: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          credits: number;
          idempotency_key: string;
          /** @default grant */
          reason?: string;
        };
      };
    };
    responses: {
      /** @description A replay of an earlier grant: nothing new was granted. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            replayed: boolean;
            entry: components['schemas']['LedgerEntry'];
          };
        };
      };
      /** @description Granted. */
      201: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            replayed: boolean;
            entry: components['schemas']['LedgerEntry'];
          };
        };
      };
      /** @description Invalid input: `details.fields` names each bad field. */
      400: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No such account. */
      404: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The idempotency key was used for another movement (`code: idempotency_key_conflict`). */
      409: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 1 MB. */
      413: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body’s encoding or charset is not supported. */
      415: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  adminLedger: {
    parameters: {
      query?: {
        limit?: number;
        before?: number;
      };
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of entries. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            data: components['schemas']['LedgerEntry'][];
            next_before: number | null;
          };
        };
      };
      /** @description Invalid input: `details.fields` names each bad field. */
      400: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No such account. */
      404: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  adminReleaseReservation: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
        seq: number;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          reason: string;
        };
      };
    };
    responses: {
      /** @description Released. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            entry: components['schemas']['LedgerEntry'];
            job: {
              id: string;
              /** @constant */
              object: 'job';
              /** @enum {string} */
              status: 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';
              model: string;
              requested_model: string;
              task?: string;
              provider: string | null;
              /** @constant */
              sandbox?: true;
              notice?: string;
              prompt: string;
              negative_prompt?: string;
              n: number;
              /** @enum {string} */
              aspect_ratio: '1:1' | '16:9' | '9:16' | '4:3' | '3:4' | '3:2' | '2:3' | '21:9' | '9:21';
              seed?: number;
              /** @enum {string} */
              output_format?: 'png' | 'jpeg' | 'webp';
              credits_reserved: number;
              credits_charged: number;
              progress: number | null;
              queue_position: number | null;
              images: {
                /** @description Signed and expiring: read the job again for a fresh one. */
                url: string;
                /** @enum {string} */
                role: 'image' | 'grid' | 'candidate';
                width: number;
                height: number;
                content_type: string;
              }[];
              error: {
                code: string;
                message: string;
              } | null;
              attempts: {
                provider: string;
                model: string;
                outcome: string;
                duration_ms: number;
                error?: string;
                adaptations?: string[];
                upstream_usage?: {
                  [key: string]: number;
                };
                /** @enum {string} */
                upstream_cancel?: 'cancelled' | 'unsupported' | 'failed';
              }[];
              fallback_models?: string[];
              webhook_url?: string;
              webhook?: {
                /** @enum {string} */
                state: 'pending' | 'delivered' | 'failed' | 'gone';
                attempts: {
                  /** Format: date-time */
                  at: string;
                  status: number | null;
                  /** @enum {string} */
                  outcome: 'delivered' | 'failed' | 'gone' | 'refused';
                  duration_ms: number;
                  error?: string;
                }[];
              };
              metadata: {
                [key: string]: string;
              };
              idempotency_key?: string;
              /** Format: date-time */
              created_at: string;
              started_at: string | null;
              completed_at: string | null;
              images_deleted_at: string | null;
              account_id: string;
            } | null;
          };
        };
      };
      /** @description Invalid input: `details.fields` names each bad field. */
      400: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No such account or reservation. */
      404: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Already settled, or its job is still running (its workflow will settle it). */
      409: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 1 MB. */
      413: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body’s encoding or charset is not supported. */
      415: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  adminGetJob: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The job. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            id: string;
            /** @constant */
            object: 'job';
            /** @enum {string} */
            status: 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';
            model: string;
            requested_model: string;
            task?: string;
            provider: string | null;
            /** @constant */
            sandbox?: true;
            notice?: string;
            prompt: string;
            negative_prompt?: string;
            n: number;
            /** @enum {string} */
            aspect_ratio: '1:1' | '16:9' | '9:16' | '4:3' | '3:4' | '3:2' | '2:3' | '21:9' | '9:21';
            seed?: number;
            /** @enum {string} */
            output_format?: 'png' | 'jpeg' | 'webp';
            credits_reserved: number;
            credits_charged: number;
            progress: number | null;
            queue_position: number | null;
            images: {
              /** @description Signed and expiring: read the job again for a fresh one. */
              url: string;
              /** @enum {string} */
              role: 'image' | 'grid' | 'candidate';
              width: number;
              height: number;
              content_type: string;
            }[];
            error: {
              code: string;
              message: string;
            } | null;
            attempts: {
              provider: string;
              model: string;
              outcome: string;
              duration_ms: number;
              error?: string;
              adaptations?: string[];
              upstream_usage?: {
                [key: string]: number;
              };
              /** @enum {string} */
              upstream_cancel?: 'cancelled' | 'unsupported' | 'failed';
            }[];
            fallback_models?: string[];
            webhook_url?: string;
            webhook?: {
              /** @enum {string} */
              state: 'pending' | 'delivered' | 'failed' | 'gone';
              attempts: {
                /** Format: date-time */
                at: string;
                status: number | null;
                /** @enum {string} */
                outcome: 'delivered' | 'failed' | 'gone' | 'refused';
                duration_ms: number;
                error?: string;
              }[];
            };
            metadata: {
              [key: string]: string;
            };
            idempotency_key?: string;
            /** Format: date-time */
            created_at: string;
            started_at: string | null;
            completed_at: string | null;
            images_deleted_at: string | null;
            account_id: string;
            reservation: {
              account_id: string;
              job_id: string;
              seq: number;
              credits: number;
              from_plan: number;
              from_purchased: number;
              period_start: string | null;
            };
            ledger: components['schemas']['LedgerEntry'][];
          };
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No such job. */
      404: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  adminProviders: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The deployments. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            sandbox_only: boolean;
            unserved_models: string[];
            default_strategy: string;
            routing: {
              [key: string]: unknown;
            };
            note: string;
            deployments: {
              id: string;
              type: string;
              base_url: string | null;
              weight: number;
              priority: number;
              timeout_ms: number;
              max_concurrency: number | null;
              requests_per_second: number | null;
              breaker: {
                [key: string]: unknown;
              };
              models: {
                [key: string]: unknown;
              };
              workers: ({
                worker: string;
                /** Format: date-time */
                updated_at: string;
                /** @enum {string} */
                state?: 'closed' | 'half_open' | 'open';
                /** @description Exponentially weighted mean latency of successful calls. */
                latencyMs?: number;
                /** @description Calls that succeeded since the worker started. */
                successes?: number;
                /** @description Calls that failed since the worker started, whatever the outcome. */
                failures?: number;
                /** @description The breaker’s rolling window in this worker: what it opens on. */
                recent?: {
                  /** @description The breaker’s rolling window. */
                  windowMs: number;
                  /** @description Calls made to the upstream in the window. */
                  calls: number;
                  /** @description Calls in the window that counted against the upstream (client errors, rate limits and cancellations do not). */
                  failures: number;
                  /** @description Calls refused without calling: the breaker open, or at max_concurrency. */
                  refused: number;
                };
                /** @description recent.failures / recent.calls; null when the window holds no call. */
                errorRate?: number | null;
                /** @description Jobs that moved on to another deployment after this one failed. */
                fallbacksFrom?: number;
                /** @description Jobs this deployment took over after another one failed. */
                fallbacksTo?: number;
                lastError?: string;
                /** @description A 429 asked to wait until then (epoch ms). */
                coolingDownUntil?: number;
              } & {
                [key: string]: unknown;
              })[];
            }[];
          };
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  adminAudit: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The report (empty `violations` when sound). */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            accounts_checked: number;
            violations: {
              account_id: string;
              job_id?: string;
              entry_seq?: number;
              /** @constant */
              holds_credits?: true;
              problem: string;
              links: {
                [key: string]: string;
              };
            }[];
          };
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  codecEncode: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          payloads: {
            metadata?: {
              [key: string]: string;
            } | null;
            data?: string | null;
          }[];
        };
      };
    };
    responses: {
      /** @description The payloads, encoded. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            payloads: {
              metadata: {
                [key: string]: string;
              };
              data: string;
            }[];
          };
        };
      };
      /** @description Invalid input: `details.fields` names each bad field. */
      400: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 1 MB. */
      413: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body’s encoding or charset is not supported. */
      415: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  codecEncodeInNamespace: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        namespace: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          payloads: {
            metadata?: {
              [key: string]: string;
            } | null;
            data?: string | null;
          }[];
        };
      };
    };
    responses: {
      /** @description The payloads, encoded. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            payloads: {
              metadata: {
                [key: string]: string;
              };
              data: string;
            }[];
          };
        };
      };
      /** @description Invalid input: `details.fields` names each bad field. */
      400: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 1 MB. */
      413: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body’s encoding or charset is not supported. */
      415: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  codecDecode: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          payloads: {
            metadata?: {
              [key: string]: string;
            } | null;
            data?: string | null;
          }[];
        };
      };
    };
    responses: {
      /** @description The payloads, decoded. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            payloads: {
              metadata: {
                [key: string]: string;
              };
              data: string;
            }[];
          };
        };
      };
      /** @description Invalid input: `details.fields` names each bad field. */
      400: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 1 MB. */
      413: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body’s encoding or charset is not supported. */
      415: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  codecDecodeInNamespace: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        namespace: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          payloads: {
            metadata?: {
              [key: string]: string;
            } | null;
            data?: string | null;
          }[];
        };
      };
    };
    responses: {
      /** @description The payloads, decoded. */
      200: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            payloads: {
              metadata: {
                [key: string]: string;
              };
              data: string;
            }[];
          };
        };
      };
      /** @description Invalid input: `details.fields` names each bad field. */
      400: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Missing or invalid credentials. */
      401: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 1 MB. */
      413: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body’s encoding or charset is not supported. */
      415: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A fault on Easel’s side: retry, quoting the request id if it persists. */
      500: {
        headers: {
          /** @description The request id (the one sent, when it was a safe token): quote it when asking for help. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
}
