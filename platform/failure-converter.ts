import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Moves failure messages and stack traces into an encoded payload (which the payload codec
 * encrypts): an upstream's error text quoted in a failure could echo a prompt. Loaded by path
 * (`failureConverterPath`) by the client, the worker and the workflow bundle, so it imports
 * nothing but the SDK.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
