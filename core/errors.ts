/**
 * What the domain refuses, in its own words. Each error carries a stable `code` that clients see
 * and optional details; the API maps codes to HTTP statuses in one table (`api/errors.ts`), and
 * nothing in the domain knows about HTTP.
 */
export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Every code a domain error can carry; the API's status table must name each one. */
export type DomainErrorCode =
  | 'invalid_request'
  | 'not_found'
  | 'account_suspended'
  | 'model_unavailable'
  | 'unsupported_parameters'
  | 'webhook_url_refused'
  | 'idempotency_key_reused'
  | 'idempotency_key_conflict'
  | 'reservation_settled'
  | 'job_running'
  | 'insufficient_credits'
  | 'concurrent_jobs_limit';

/** Input the domain cannot act on; `fields` names each bad field and what is expected. */
export class InvalidInput extends DomainError {
  constructor(message: string, fields?: Record<string, string>) {
    super('invalid_request', message, fields && { fields });
  }
}

export class NotFound extends DomainError {
  constructor(what: string) {
    super('not_found', `${what} not found`);
  }
}

export class AccountSuspended extends DomainError {
  constructor() {
    super('account_suspended', 'This account is suspended; contact the platform team to reactivate it.');
  }
}

/** A catalog model that no configured provider deployment serves. */
export class ModelUnavailable extends DomainError {
  constructor(model: string) {
    super(
      'model_unavailable',
      `No provider deployment serves "${model}" on this Easel; ask the platform team or pick another model.`,
    );
  }
}

/**
 * No deployment of the model can serve the request as asked (a negative prompt for a model
 * whose providers take none, more images than they make, an aspect ratio they lack). Nothing is
 * reserved; the answer names the parameters and the models that would take the request.
 */
export class UnsupportedParameters extends DomainError {
  constructor(model: string, parameters: readonly string[], acceptingModels: readonly string[]) {
    super(
      'unsupported_parameters',
      `No provider of "${model}" on this Easel can serve ${parameters.join(', ')} as asked; ` +
        (acceptingModels.length > 0
          ? `change ${parameters.length > 1 ? 'them' : 'it'}, or pick a model that takes this request: ${acceptingModels.join(', ')}.`
          : `change ${parameters.length > 1 ? 'them' : 'it'}: no model here takes this request as it is.`),
      { parameters, models_accepting_request: acceptingModels },
    );
  }
}

/** An Idempotency-Key sent again with a different request. */
export class IdempotencyKeyReused extends DomainError {
  constructor() {
    super(
      'idempotency_key_reused',
      'This Idempotency-Key was already used with a different request body; use a new key for a new request.',
    );
  }
}
