import path from 'node:path';

/**
 * The prebuilt workflow bundle of a production build (`npm run build` writes it next to the
 * compiled code: dist/workflow-bundle.js). Run from the sources there is none, and the worker
 * bundles the workflows when it starts.
 */
export const WORKFLOW_BUNDLE = path.join(__dirname, '..', 'workflow-bundle.js');
