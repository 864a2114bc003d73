import { buildCatalog, DEFAULT_CATALOG } from '../../core/catalog';
import { ConfigurationError, parseEnvironment } from '../../platform/config';

describe('environment', () => {
  it('applies the local defaults', () => {
    const env = parseEnvironment({});
    expect(env.PORT).toBe(8080);
    expect(env.HOST).toBe('127.0.0.1');
    expect(env.TEMPORAL_NAMESPACE).toBe('default');
    expect(env.MONGODB_URI).toBeUndefined();
  });

  it('keeps images on local disk behind Easel’s own URLs unless told otherwise', () => {
    const env = parseEnvironment({});
    expect(env.EASEL_IMAGE_STORE).toBe('local');
    expect(env.EASEL_IMAGE_DELIVERY).toBe('proxy');
    expect(env.EASEL_S3_PREFIX).toBe('');
    expect(env.EASEL_S3_FORCE_PATH_STYLE).toBe(false);
  });

  it('parses the S3 store, and refuses it without a bucket or with a bad value, naming the variable', () => {
    const env = parseEnvironment({
      EASEL_IMAGE_STORE: 's3',
      EASEL_S3_BUCKET: 'easel-images',
      EASEL_S3_PREFIX: 'prod/',
      EASEL_S3_ENDPOINT: 'http://minio:9000',
      EASEL_S3_FORCE_PATH_STYLE: 'true',
      EASEL_IMAGE_DELIVERY: 'presigned',
    });
    expect(env).toMatchObject({
      EASEL_IMAGE_STORE: 's3',
      EASEL_S3_BUCKET: 'easel-images',
      EASEL_S3_PREFIX: 'prod/',
      EASEL_S3_ENDPOINT: 'http://minio:9000',
      EASEL_S3_FORCE_PATH_STYLE: true,
      EASEL_IMAGE_DELIVERY: 'presigned',
    });
    expect(() => parseEnvironment({ EASEL_IMAGE_STORE: 's3' })).toThrow(
      /EASEL_S3_BUCKET: is required when EASEL_IMAGE_STORE=s3/,
    );
    expect(() => parseEnvironment({ EASEL_IMAGE_STORE: 'gcs' })).toThrow(/EASEL_IMAGE_STORE: .*got "gcs"/);
    expect(() => parseEnvironment({ EASEL_S3_ENDPOINT: 'minio:9000' })).toThrow(/EASEL_S3_ENDPOINT: /);
    expect(() => parseEnvironment({ EASEL_S3_FORCE_PATH_STYLE: 'yes' })).toThrow(
      /EASEL_S3_FORCE_PATH_STYLE: /,
    );
    expect(() => parseEnvironment({ EASEL_S3_PREFIX: '/images/' })).toThrow(
      /EASEL_S3_PREFIX: must not start/,
    );
    expect(() => parseEnvironment({ EASEL_IMAGE_DELIVERY: 'presigned' })).toThrow(
      /EASEL_IMAGE_DELIVERY: presigned needs EASEL_IMAGE_STORE=s3/,
    );
  });

  it('names the variable and what is wrong with it', () => {
    expect(() => parseEnvironment({ PORT: 'eighty' })).toThrow(/PORT: .*got "eighty"/);
    expect(() => parseEnvironment({ MONGODB_URI: 'localhost:27017' })).toThrow(
      /MONGODB_URI: must start with mongodb:\/\//,
    );
  });

  it('refuses production without an admin token, database and Temporal, and never shows the token', () => {
    expect(() => parseEnvironment({ NODE_ENV: 'production' })).toThrow(
      /EASEL_ADMIN_TOKEN: is required when NODE_ENV=production/,
    );
    expect(() => parseEnvironment({ NODE_ENV: 'production', EASEL_ADMIN_TOKEN: 'short' })).toThrow(
      /EASEL_ADMIN_TOKEN: must be at least 16 characters \(got "\*\*\*"\)/,
    );
    const production = {
      NODE_ENV: 'production',
      EASEL_ADMIN_TOKEN: 'a-long-enough-admin-token',
      EASEL_METRICS_TOKEN: 'a-long-enough-metrics-token',
      EASEL_IMAGE_URL_SECRET: 'a-long-enough-image-url-secret-0123456789',
      MONGODB_URI: 'mongodb://db:27017/easel',
      TEMPORAL_ADDRESS: 'temporal:7233',
      EASEL_PAYLOAD_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
    };
    const env = parseEnvironment(production);
    expect(env.NODE_ENV).toBe('production');
    expect(() => parseEnvironment({ ...production, EASEL_METRICS_TOKEN: undefined })).toThrow(
      /EASEL_METRICS_TOKEN: is required when NODE_ENV=production/,
    );
  });

  it('refuses production without payload keys, and a bad key without showing it', () => {
    expect(() => parseEnvironment({ NODE_ENV: 'production' })).toThrow(
      /EASEL_PAYLOAD_KEYS: is required when NODE_ENV=production/,
    );
    expect(() => parseEnvironment({ EASEL_PAYLOAD_KEYS: 'k1:c2hvcnQ=' })).toThrow(
      /EASEL_PAYLOAD_KEYS: key k1: must be 32 random bytes in base64 .*\(got "\*\*\*"\)/,
    );
    expect(parseEnvironment({}).EASEL_PAYLOAD_KEYS).toBeUndefined();
  });
});

describe('catalog configuration', () => {
  it('has the published defaults', () => {
    expect(DEFAULT_CATALOG.models['ideogram-v3']?.credits).toBe(5);
    expect(DEFAULT_CATALOG.plans['scale-2']?.monthly_credits).toBe(77_000);
    expect(DEFAULT_CATALOG.trial_credits).toBe(25);
    expect(DEFAULT_CATALOG.tasks['text-in-image']).toBe('ideogram-v3');
  });

  it('merges an override over the defaults', () => {
    const catalog = buildCatalog({ models: { 'my-model': { credits: 7 } }, tasks: { logos: 'my-model' } });
    expect(catalog.models['my-model']?.credits).toBe(7);
    expect(catalog.models['flux-2-dev']?.credits).toBe(1);
    expect(catalog.tasks.logos).toBe('my-model');
  });

  it('rejects a bad override naming the field', () => {
    expect(() => buildCatalog({ models: { 'flux-2-dev': { credits: -1 } } }, 'easel.yaml')).toThrow(
      ConfigurationError,
    );
    expect(() => buildCatalog({ models: { 'flux-2-dev': { credits: -1 } } }, 'easel.yaml')).toThrow(
      /easel\.yaml[\s\S]*models\.flux-2-dev\.credits/,
    );
    expect(() => buildCatalog({ tasks: { logos: 'no-such-model' } })).toThrow(
      /tasks\.logos: unknown model "no-such-model"/,
    );
  });
});
