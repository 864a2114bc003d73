/**
 * The deployment files in infra/deploy, checked with what runs without a Docker engine or a
 * cluster: helm lint and template, the rendered manifests against the Kubernetes and
 * prometheus-operator schemas, the compose file against the Compose Specification's schema, and
 * the Dockerfile's paths against this repository. `bash infra/deploy/install-tools.sh` installs
 * helm and the schemas into .cache/ (.ci/run runs it).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { ValidateFunction } from 'ajv';
import YAML from 'yaml';

const ROOT = path.resolve(__dirname, '../..');
const DEPLOY = path.join(ROOT, 'infra/deploy');
const CHART = path.join(DEPLOY, 'helm/easel');
const HELM = path.join(ROOT, '.cache/bin/helm');
const SCHEMAS = path.join(ROOT, '.cache/deploy-schemas');
const INSTALL = 'bash infra/deploy/install-tools.sh';
/** Chart.yaml's kubeVersion floor and the newest schemas install-tools.sh fetches. */
const KUBERNETES_VERSIONS = ['1.25.0', '1.37.0'];
const ENTRY_POINTS = ['dist/bin/api.js', 'dist/bin/worker.js'];
/** Read by the AWS SDK behind the S3 image store, not by Easel's own environment schema. */
const AWS_SDK_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'];
/** Variables that carry a secret (a `*_PATH` names a mounted file, not the secret itself). */
const SECRET_NAME = /^(?!.*_PATH$).*(TOKEN|SECRET|KEY|PASSWORD|MONGODB_URI)/;

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; spec?: unknown } & Record<
  string,
  unknown
>;
type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };
type Container = {
  name: string;
  command?: string[];
  env?: EnvVar[];
  securityContext?: Record<string, unknown>;
  livenessProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
  ports?: { name: string; containerPort: number }[];
  volumeMounts?: unknown[];
};
type PodSpec = { securityContext?: Record<string, unknown>; containers: Container[]; volumes?: unknown[] };
type Deployment = Manifest & { spec: { template: { spec: PodSpec } } };

function requireFile(file: string): string {
  if (!fs.existsSync(file)) {
    throw new Error(`${path.relative(ROOT, file)} is missing: run \`${INSTALL}\` (.ci/run does) first.`);
  }
  return file;
}

function helm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(requireFile(HELM), args, { cwd: ROOT, encoding: 'utf8' });
  if (result.error) throw result.error;
  return result;
}

const CI_VALUES = path.join(CHART, 'ci/test-values.yaml');
/** Every optional part on (ci/test-values.yaml), and the required values only with the rest at defaults. */
const VALUE_SETS: Record<string, string[]> = {
  'every option on': ['-f', CI_VALUES],
  'defaults, autoscaling off': [
    '--set',
    'secrets.existingSecret=easel,config.temporal.address=temporal:7233,config.imageStore.s3.bucket=images',
    '--set',
    'api.autoscaling.enabled=false,worker.autoscaling.enabled=false',
  ],
};

/** Values the chart refuses to render, each with what helm's error says. */
const REFUSED_VALUES: Array<{ name: string; values: string[]; error: string }> = [
  {
    name: 'refuses to render without the Secret it reads the secrets from',
    values: [],
    error: 'secrets.existingSecret is required',
  },
  {
    name: 'refuses an extraEnv variable that the chart already sets from values or a Secret',
    values: ['-f', CI_VALUES, '--set', 'config.extraEnv.MONGODB_URI=mongodb://x'],
    error: 'config.extraEnv.MONGODB_URI: the chart sets MONGODB_URI itself',
  },
  {
    name: 'validates its values with values.schema.json',
    values: ['-f', CI_VALUES, '--set', 'api.replicas=two'],
    error: "at '/api/replicas': got string, want integer",
  },
];

function render(values: string[], kubeVersion = '1.33.0'): Manifest[] {
  const result = helm([
    'template',
    'easel',
    CHART,
    '--namespace',
    'easel',
    '--kube-version',
    kubeVersion,
    ...values,
  ]);
  if (result.status !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  return YAML.parseAllDocuments(result.stdout)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
}

function deployments(manifests: Manifest[]): Deployment[] {
  return manifests.filter((m): m is Deployment => m.kind === 'Deployment');
}

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(requireFile(file), 'utf8')) as Record<string, unknown>;
}

/**
 * The CRDs' patterns are Go (RE2) regular expressions; the only RE2-only syntax they use is the
 * (?i) flag group, which becomes JavaScript's i flag (for the whole pattern, as it is used there).
 */
const goRegExp = Object.assign(
  (pattern: string, flags: string) =>
    pattern.includes('(?i)')
      ? new RegExp(pattern.replaceAll('(?i)', ''), `${flags}i`)
      : new RegExp(pattern, flags),
  { code: 'new RegExp' },
);

/** Validators by apiVersion and kind for one Kubernetes version, from kubernetes-validate's schemas. */
function kubernetesValidator(version: string): (m: Manifest) => ValidateFunction {
  const dir = path.join(SCHEMAS, `kubernetes/v${version}-local-strict`);
  const ajv = new Ajv2020({
    strict: false,
    validateFormats: false,
    allErrors: true,
    code: { regExp: goRegExp },
  });
  ajv.addSchema(readJson(path.join(dir, '_definitions.json')));
  for (const file of ['servicemonitors', 'prometheusrules']) {
    const crd = YAML.parse(
      fs.readFileSync(requireFile(path.join(SCHEMAS, `crds/monitoring.coreos.com_${file}.yaml`)), 'utf8'),
    ) as {
      spec: { names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: object } }[] };
    };
    for (const v of crd.spec.versions) {
      ajv.addSchema(v.schema.openAPIV3Schema, `monitoring.coreos.com/${v.name}/${crd.spec.names.kind}`);
    }
  }
  const compiled = new Map<string, ValidateFunction>();
  return (m) => {
    const id = `${m.apiVersion}/${m.kind}`;
    let validate = compiled.get(id) ?? ajv.getSchema(id);
    if (!validate) {
      const [group, apiVersion] = m.apiVersion.includes('/') ? m.apiVersion.split('/') : ['', m.apiVersion];
      const suffix = group ? `-${group.split('.')[0]}-${apiVersion}` : `-${apiVersion}`;
      const file = path.join(dir, `${m.kind.toLowerCase()}${suffix}.json`);
      if (!fs.existsSync(file)) throw new Error(`no Kubernetes ${version} schema for ${id} (${file})`);
      validate = ajv.compile(readJson(file));
    }
    compiled.set(id, validate);
    return validate;
  };
}

/** Environment variables Easel reads: the README's Configuration section and platform/config.ts. */
function knownVariables(): Set<string> {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(
    readme.indexOf('## Configuration'),
    readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1),
  );
  const fromReadme = [...section.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1] ?? '');
  const config = fs.readFileSync(path.join(ROOT, 'platform/config.ts'), 'utf8');
  const fromSchema = [...config.matchAll(/^ {4}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1] ?? '');
  return new Set([...fromReadme, ...fromSchema, ...AWS_SDK_VARIABLES]);
}

describe('Helm chart (infra/deploy/helm/easel)', () => {
  it('passes helm lint --strict on its oldest and newest Kubernetes', () => {
    for (const version of KUBERNETES_VERSIONS) {
      const result = helm(['lint', '--strict', CHART, '-f', CI_VALUES, '--kube-version', version]);
      expect({ status: result.status, output: result.stdout + result.stderr }).toMatchObject({ status: 0 });
    }
  });

  it.each(REFUSED_VALUES)('$name', ({ values, error }) => {
    const result = helm(['template', 'easel', CHART, ...values, '--kube-version', '1.33.0']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(error);
  });

  it.each(KUBERNETES_VERSIONS)(
    'renders manifests valid against the Kubernetes %s schemas and the CRDs',
    (version) => {
      const validatorFor = kubernetesValidator(version);
      const kinds = new Set<string>();
      for (const values of Object.values(VALUE_SETS)) {
        for (const manifest of render(values, version)) {
          const validate = validatorFor(manifest);
          const name = `${manifest.kind} ${manifest.metadata.name}`;
          kinds.add(manifest.kind);
          expect({ name, errors: validate(manifest) ? null : validate.errors?.slice(0, 5) }).toEqual({
            name,
            errors: null,
          });
        }
      }
      expect([...kinds].sort()).toEqual(
        [
          'ConfigMap',
          'Deployment',
          'HorizontalPodAutoscaler',
          'Ingress',
          'PodDisruptionBudget',
          'PrometheusRule',
          'Service',
          'ServiceAccount',
          'ServiceMonitor',
        ].sort(),
      );
    },
  );

  it('reaches a TLS Temporal with the CA and client certificate of a referenced Secret, mounted read-only', () => {
    for (const d of deployments(render(VALUE_SETS['every option on'] ?? []))) {
      const pod = d.spec.template.spec;
      const container = pod.containers[0]!;
      const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
      expect(env).toMatchObject({
        TEMPORAL_TLS: 'true',
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/etc/easel/temporal-tls/ca.crt',
        TEMPORAL_TLS_CLIENT_CERT_PATH: '/etc/easel/temporal-tls/tls.crt',
        TEMPORAL_TLS_CLIENT_KEY_PATH: '/etc/easel/temporal-tls/tls.key',
      });
      expect(pod.volumes).toContainEqual({
        name: 'temporal-tls',
        secret: { secretName: 'easel-temporal-tls', defaultMode: 0o440 },
      });
      expect(container.volumeMounts).toContainEqual({
        name: 'temporal-tls',
        mountPath: '/etc/easel/temporal-tls',
        readOnly: true,
      });
    }
  });

  it('runs the API and the worker apart, non-root, read-only, probed on /healthz and /readyz', () => {
    const manifests = render(VALUE_SETS['every option on'] ?? []);
    const byComponent = new Map(
      deployments(manifests).map((d) => [d.metadata.name.replace(/^easel-/, ''), d.spec.template.spec]),
    );
    expect([...byComponent.keys()].sort()).toEqual(['api', 'worker']);
    const ports = { api: ['http', 8080], worker: ['metrics', 9464] } as const;
    for (const [component, [portName, port]] of Object.entries(ports)) {
      const pod = byComponent.get(component);
      const container = pod?.containers[0];
      expect(pod?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(container?.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(container?.command).toEqual(['node', `dist/bin/${component}.js`]);
      expect(container?.ports).toEqual([expect.objectContaining({ name: portName, containerPort: port })]);
      expect(container?.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: portName });
      expect(container?.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: portName });
      const env = new Map(container?.env?.map((e) => [e.name, e.value]));
      expect(env.get('PORT')).toBe('8080');
      expect(env.get('WORKER_METRICS_PORT')).toBe('9464');
    }
    for (const kind of ['HorizontalPodAutoscaler', 'PodDisruptionBudget']) {
      expect(manifests.filter((m) => m.kind === kind).map((m) => m.metadata.name)).toEqual(
        expect.arrayContaining(['easel-api', 'easel-worker']),
      );
    }
  });

  it('takes every secret from a referenced Secret and sets only variables Easel reads', () => {
    const known = knownVariables();
    for (const values of Object.values(VALUE_SETS)) {
      const manifests = render(values);
      expect(manifests.filter((m) => m.kind === 'Secret')).toEqual([]);
      for (const container of deployments(manifests).flatMap((d) => d.spec.template.spec.containers)) {
        for (const variable of container.env ?? []) {
          expect(known).toContain(variable.name);
          if (SECRET_NAME.test(variable.name)) {
            expect(variable).toEqual({
              name: variable.name,
              valueFrom: { secretKeyRef: expect.any(Object) },
            });
          }
        }
        const names = container.env?.map((e) => e.name) ?? [];
        expect(names.length).toBe(new Set(names).size);
      }
    }
  });

  it("ships infra/prometheus/alerts.yml byte for byte as its PrometheusRule's rules", () => {
    const source = fs.readFileSync(path.join(ROOT, 'infra/prometheus/alerts.yml'));
    const copy = fs.readFileSync(path.join(CHART, 'files/alerts.yml'));
    expect({
      equal: copy.equals(source),
      fix: 'cp infra/prometheus/alerts.yml infra/deploy/helm/easel/files/alerts.yml',
    }).toEqual({
      equal: true,
      fix: expect.any(String),
    });
    const rule = render(VALUE_SETS['every option on'] ?? []).find((m) => m.kind === 'PrometheusRule');
    expect(rule?.spec).toEqual(YAML.parse(source.toString('utf8')));
  });
});

type ComposeService = {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  secrets?: { source: string; target: string }[];
  deploy?: { replicas?: number };
};

describe('docker compose (infra/deploy/docker-compose.yml)', () => {
  const text = fs.readFileSync(path.join(DEPLOY, 'docker-compose.yml'), 'utf8');
  const compose = YAML.parse(text, { merge: true }) as {
    services: Record<string, ComposeService>;
    secrets: Record<string, { environment?: string }>;
  };
  const services = compose.services;

  it('is valid against the Compose Specification schema', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(readJson(path.join(SCHEMAS, 'compose-spec.json')));
    expect({ valid: validate(compose), errors: validate.errors ?? null }).toEqual({
      valid: true,
      errors: null,
    });
  });

  it('runs two API and two worker replicas of the image, with the variables Easel reads', () => {
    const known = knownVariables();
    expect(services.api?.deploy?.replicas).toBe(2);
    expect(services.worker?.deploy?.replicas).toBe(2);
    expect(services.api?.command).toEqual(['node', 'dist/bin/api.js']);
    expect(services.worker?.command).toEqual(['node', 'dist/bin/worker.js']);
    for (const name of ['api', 'worker']) {
      const environment = services[name]?.environment ?? {};
      expect(Object.keys(environment).filter((variable) => !known.has(variable))).toEqual([]);
      expect(environment).toMatchObject({ NODE_ENV: 'production', EASEL_IMAGE_STORE: 's3', HOST: '0.0.0.0' });
      expect(environment.MONGODB_URI).toMatch(/replicaSet=rs0/);
    }
  });

  it('takes every secret from .env, and .env.example names every variable it interpolates', () => {
    const example = fs.readFileSync(path.join(DEPLOY, '.env.example'), 'utf8');
    const documented = new Set([...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    const used = [
      ...text.replace(/^\s*#.*$/gm, '').matchAll(/(?<!\$)\$\{([A-Z][A-Z0-9_]*)(:?[-?][^}]*)?\}/g),
    ];
    expect(used.length).toBeGreaterThan(10);
    for (const [reference, name, modifier] of used) {
      expect({ name, documented: documented.has(name ?? '') }).toEqual({ name, documented: true });
      if (SECRET_NAME.test(name ?? '') && !/REGION|BUCKET/.test(name ?? '')) {
        expect({ reference, required: modifier?.startsWith(':?') ?? false }).toEqual({
          reference,
          required: true,
        });
      }
    }
    for (const service of Object.values(services)) {
      for (const [variable, value] of Object.entries(service.environment ?? {})) {
        if (SECRET_NAME.test(variable) && variable !== 'EASEL_S3_BUCKET')
          expect({ variable, value }).toEqual({ variable, value: expect.stringContaining('${') });
      }
    }
  });

  it('mounts files that exist: the alert rules, the dashboards and their provisioning', () => {
    const sources = Object.values(services)
      .flatMap((s) => s.volumes ?? [])
      .map((v) => v.split(':')[0] ?? '')
      .filter((source) => source.startsWith('.'));
    for (const source of sources)
      expect({ source, exists: fs.existsSync(path.join(DEPLOY, source)) }).toEqual({ source, exists: true });
    expect(services.prometheus?.volumes).toContain(
      '../prometheus/alerts.yml:/etc/prometheus/rules/alerts.yml:ro',
    );
    expect(services.grafana?.volumes).toContain('../grafana/dashboards:/var/lib/grafana/dashboards/easel:ro');
  });

  it("scrapes each API and worker replica's /metrics with the metrics token Prometheus is given", () => {
    const prometheus = YAML.parse(fs.readFileSync(path.join(DEPLOY, 'compose/prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: {
        job_name: string;
        metrics_path: string;
        authorization: { credentials_file: string };
        dns_sd_configs: { names: string[]; port: number }[];
      }[];
    };
    expect(prometheus.rule_files).toEqual(['/etc/prometheus/rules/alerts.yml']);
    const tokenFile = services.prometheus?.secrets?.find((s) => s.source === 'easel_metrics_token')?.target;
    expect(compose.secrets.easel_metrics_token).toEqual({ environment: 'EASEL_METRICS_TOKEN' });
    const targets = prometheus.scrape_configs.map((c) => ({
      job: c.job_name,
      path: c.metrics_path,
      token: c.authorization.credentials_file,
      dns: c.dns_sd_configs,
    }));
    expect(targets).toEqual([
      {
        job: 'easel-api',
        path: '/metrics',
        token: tokenFile,
        dns: [{ names: ['api'], type: 'A', port: 8080 }],
      },
      {
        job: 'easel-worker',
        path: '/metrics',
        token: tokenFile,
        dns: [{ names: ['worker'], type: 'A', port: 9464 }],
      },
    ]);
  });
});

type Instruction = { op: string; args: string };
type Stage = { name: string; instructions: Instruction[] };

function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const stages: Stage[] = [];
  for (const line of lines) {
    const match = /^([A-Z]+)\s+(.*)$/.exec(line.trim());
    if (!match || line.trim().startsWith('#')) continue;
    const [, op = '', args = ''] = match;
    if (op === 'FROM')
      stages.push({ name: /\sAS\s+(\S+)/i.exec(args)?.[1] ?? String(stages.length), instructions: [] });
    stages.at(-1)?.instructions.push({ op, args });
  }
  return stages;
}

/** Docker's ignore-file semantics, for the patterns it uses: the last pattern matching a path or a parent decides. */
function ignoredByDockerignore(patterns: string[], file: string): boolean {
  const parts = file.split('/');
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    const regex = new RegExp(
      `^${pattern
        .split('**/')
        .map((p) => p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
        .join('(.*/)?')}$`,
    );
    if (parts.some((_, i) => regex.test(parts.slice(0, i + 1).join('/')))) ignored = !negated;
  }
  return ignored;
}

describe('Dockerfile (infra/deploy/Dockerfile)', () => {
  const stages = parseDockerfile(fs.readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8'));
  const ignore = fs
    .readFileSync(path.join(DEPLOY, 'Dockerfile.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const tsconfig = readJson(path.join(ROOT, 'tsconfig.json')) as {
    compilerOptions: { outDir: string; rootDir: string };
  };
  const build = readJson(path.join(ROOT, 'tsconfig.build.json')) as { include: string[]; exclude?: string[] };
  const excluded = (file: string) =>
    (build.exclude ?? []).some((e) => file === e || file.startsWith(`${e}/`));
  const copies = (stage: Stage) =>
    stage.instructions
      .filter((i) => i.op === 'COPY')
      .map((i) => {
        const words = i.args.split(/\s+/);
        const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
        const paths = words.filter((w) => !w.startsWith('--'));
        return { from, sources: paths.slice(0, -1), target: paths.at(-1) ?? '' };
      });

  it('builds in one stage, installs production dependencies in another, and runs as a non-root user', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    const runs = (name: string) =>
      stages
        .find((s) => s.name === name)
        ?.instructions.filter((i) => i.op === 'RUN')
        .map((i) => i.args);
    expect(runs('build')).toEqual(
      expect.arrayContaining([expect.stringMatching(/^npm ci\b/), 'npm run build']),
    );
    expect(runs('deps')).toEqual([expect.stringMatching(/^npm ci --omit=dev\b/)]);
    const runtime = stages.find((s) => s.name === 'runtime')?.instructions ?? [];
    expect(runtime.filter((i) => i.op === 'USER').map((i) => i.args)).toEqual(['node']);
    expect(runtime.some((i) => i.op === 'HEALTHCHECK' && i.args.includes('/healthz'))).toBe(true);
    for (const stage of stages) expect(stage.instructions[0]?.args).toMatch(/^\$\{NODE_IMAGE\}/);
  });

  it('copies only files that exist in the build context and are not ignored', () => {
    for (const stage of stages) {
      for (const copy of copies(stage).filter((c) => c.from === undefined)) {
        for (const source of copy.sources) {
          expect({
            source,
            exists: fs.existsSync(path.join(ROOT, source)),
            ignored: ignoredByDockerignore(ignore, source),
          }).toEqual({
            source,
            exists: true,
            ignored: false,
          });
        }
      }
    }
    expect(ignoredByDockerignore(ignore, 'node_modules/x')).toBe(true);
    expect(ignoredByDockerignore(ignore, 'infra/deploy/.env')).toBe(true);
    expect(ignoredByDockerignore(ignore, 'infra/devstack/devstack.ts')).toBe(false);
  });

  it('gives the compiler every file tsconfig.build.json includes', () => {
    const copied = copies(stages.find((s) => s.name === 'build') ?? { name: '', instructions: [] }).flatMap(
      (c) => c.sources,
    );
    for (const include of build.include) {
      const top = include.split('/**')[0] ?? include;
      const files =
        include === top
          ? [top]
          : fs
              .readdirSync(path.join(ROOT, top), { recursive: true, encoding: 'utf8' })
              .filter((f) => f.endsWith('.ts'))
              .map((f) => `${top}/${f}`)
              .filter((f) => !excluded(f));
      for (const file of files) {
        expect({ file, copied: copied.some((c) => file === c || file.startsWith(`${c}/`)) }).toEqual({
          file,
          copied: true,
        });
      }
    }
  });

  it('copies from the other stages only what they produce, and starts entry points that npm run build emits', () => {
    const produced: Record<string, string[]> = {
      build: [`/app/${tsconfig.compilerOptions.outDir}`],
      deps: ['/app/node_modules'],
    };
    const runtime = stages.find((s) => s.name === 'runtime') ?? { name: '', instructions: [] };
    for (const copy of copies(runtime).filter((c) => c.from !== undefined)) {
      expect(produced[copy.from ?? '']).toEqual(expect.arrayContaining(copy.sources));
    }
    const cmd = runtime.instructions.find((i) => i.op === 'CMD');
    expect(JSON.parse(cmd?.args ?? '[]')).toEqual(['node', 'dist/bin/api.js']);
    for (const entry of ENTRY_POINTS) {
      // tsc maps <rootDir>/x.ts to <outDir>/x.js.
      const source = path.join(
        tsconfig.compilerOptions.rootDir,
        entry.replace(`${tsconfig.compilerOptions.outDir}/`, '').replace(/\.js$/, '.ts'),
      );
      expect({
        entry,
        source: fs.existsSync(path.join(ROOT, source)),
        built: build.include.includes(source.split('/')[0] ?? ''),
      }).toEqual({
        entry,
        source: true,
        built: true,
      });
    }
  });
});
