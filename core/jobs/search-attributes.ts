import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The custom search attributes of job workflows, so that an operator finds one customer's failed
 * jobs in the Temporal UI or CLI (`EaselAccountId = "acct_…" AND EaselJobStatus = "failed"`).
 * The dev stack registers them; a cluster needs them created once (README "Temporal"), which
 * `ensureSearchAttributes` does where the namespace allows it and otherwise names the commands.
 */
export const ACCOUNT_ID = defineSearchAttributeKey('EaselAccountId', SearchAttributeType.KEYWORD);
export const MODEL = defineSearchAttributeKey('EaselModel', SearchAttributeType.KEYWORD);
/** queued → running → succeeded | failed | canceled, as the job document says. */
export const JOB_STATUS = defineSearchAttributeKey('EaselJobStatus', SearchAttributeType.KEYWORD);
/** The deployment that produced the images (set when the job settles). */
export const PROVIDER = defineSearchAttributeKey('EaselProvider', SearchAttributeType.KEYWORD);

export const JOB_SEARCH_ATTRIBUTES = [ACCOUNT_ID, MODEL, JOB_STATUS, PROVIDER] as const;
