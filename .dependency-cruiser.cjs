/**
 * The layering, checked on every `npm test` (`npm run lint:imports`). Data flows down:
 * api/ → workflows/ → activities/ → routing/ → providers/, all standing on core/ (the domain) and
 * platform/ (adapters to the outside). docs/architecture.md explains each rule.
 */
const LAYERS = 'api|workflows|activities|routing|providers|core|platform|bin|infra|bench|test|console';
const above = (...layers) => `^(${layers.join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules that import each other cannot be read (or changed) one at a time.',
      from: { path: `^(${LAYERS})/` },
      to: { circular: true },
    },
    {
      name: 'platform-imports-nothing-of-ours',
      severity: 'error',
      comment:
        'platform/ adapts the outside world (database, logs, metrics, Temporal, storage) for everyone else.',
      from: { path: '^platform/' },
      to: { path: `^(?!platform/)(${LAYERS})/` },
    },
    {
      name: 'core-is-the-domain',
      severity: 'error',
      comment: 'core/ may use core/, platform/ and the provider contract (providers/types), nothing above.',
      from: { path: '^core/' },
      to: {
        path: [
          above('api', 'workflows', 'activities', 'routing', 'bin', 'infra', 'bench', 'test'),
          '^providers/(?!types\\.ts$)',
        ],
      },
    },
    {
      name: 'providers-stand-alone',
      severity: 'error',
      comment: 'An adapter knows its upstream and the provider contract, nothing of how Easel uses it.',
      from: { path: '^providers/' },
      to: {
        path: above('api', 'workflows', 'activities', 'routing', 'core', 'bin', 'infra', 'bench', 'test'),
      },
    },
    {
      name: 'routing-below-activities',
      severity: 'error',
      comment: 'routing/ chooses and calls providers; it never reaches back into the worker or the API.',
      from: { path: '^routing/' },
      to: { path: above('api', 'workflows', 'activities', 'bin', 'infra', 'bench', 'test') },
    },
    {
      name: 'activities-below-workflows',
      severity: 'error',
      comment: 'Activities are called by workflows and know nothing of the API.',
      from: { path: '^activities/' },
      to: { path: above('api', 'workflows', 'bin', 'infra', 'bench', 'test') },
    },
    {
      name: 'api-never-imports-the-worker',
      severity: 'error',
      comment: 'The API starts workflows by name with the contract in core/jobs/contract.ts.',
      from: { path: '^api/' },
      to: { path: above('activities', 'workflows', 'bin', 'infra', 'bench', 'test') },
    },
    {
      name: 'workflows-import-types-only',
      severity: 'error',
      comment:
        'Workflow code runs in a deterministic sandbox: everything outside workflows/ comes in as types, ' +
        'except the search attribute keys, which the API and the workflow share and which are plain values.',
      from: { path: '^workflows/' },
      to: {
        path: `^(?!workflows/)(${LAYERS})/`,
        pathNot: '^core/jobs/search-attributes\\.ts$',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'entry-points-are-not-imported',
      severity: 'error',
      comment: 'bin/ wires the parts together; nothing in the product depends on it.',
      from: { path: '^(api|workflows|activities|routing|providers|core|platform|infra)/' },
      to: { path: '^bin/' },
    },
    {
      name: 'console-speaks-only-http',
      severity: 'error',
      comment:
        'console/ runs in the browser: it imports its own modules only and reaches Easel through the HTTP API; ' +
        'the server serves its files and imports none of them.',
      from: { path: '^console/' },
      to: { pathNot: '^console/' },
    },
    {
      name: 'nothing-imports-the-console',
      severity: 'error',
      comment: 'The console is files served to a browser, not a module of the server.',
      from: { path: `^(?!console/)(${LAYERS})/` },
      to: { path: '^console/' },
    },
    {
      name: 'dev-stack-only-from-entry-points',
      severity: 'error',
      comment: 'The embedded dev stack is for local runs and tests; production code never loads it.',
      from: { path: '^(api|workflows|activities|routing|providers|core|platform)/' },
      to: { path: '^infra/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|\\.cache|\\.data)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.d.ts', '.js', '.json'] },
  },
};
