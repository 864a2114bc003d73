import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporalConnectionOptions, type TemporalClientEnvironment } from '../../platform/temporal';

describe('Temporal TLS settings', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-temporal-tls-'));
  const cert = path.join(dir, 'tls.crt');
  const key = path.join(dir, 'tls.key');
  const missing = path.join(dir, 'missing.pem');
  fs.writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nY2VydA==\n-----END CERTIFICATE-----\n');
  fs.writeFileSync(key, '-----BEGIN PRIVATE KEY-----\na2V5\n-----END PRIVATE KEY-----\n');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const options = (env: TemporalClientEnvironment) => temporalConnectionOptions(env, 'temporal:7233');

  it('connects with the client certificate and key of the files named', () => {
    const tls = options({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert, TEMPORAL_TLS_CLIENT_KEY_PATH: key }).tls;
    expect(tls).toMatchObject({
      clientCertPair: {
        crt: new Uint8Array(fs.readFileSync(cert)),
        key: new Uint8Array(fs.readFileSync(key)),
      },
    });
  });

  it('refuses a client certificate without its key, saying which variable to set', () => {
    expect(() => options({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert })).toThrow(
      'Temporal mTLS: TEMPORAL_TLS_CLIENT_CERT_PATH is set but TEMPORAL_TLS_CLIENT_KEY_PATH is not. ' +
        'Set TEMPORAL_TLS_CLIENT_KEY_PATH to the PEM file of',
    );
  });

  it('refuses a key without its client certificate, saying which variable to set', () => {
    expect(() => options({ TEMPORAL_TLS_CLIENT_KEY_PATH: key })).toThrow(
      'Temporal mTLS: TEMPORAL_TLS_CLIENT_KEY_PATH is set but TEMPORAL_TLS_CLIENT_CERT_PATH is not. ' +
        'Set TEMPORAL_TLS_CLIENT_CERT_PATH to the PEM file of',
    );
  });

  it.each([
    [
      'TEMPORAL_TLS_CLIENT_CERT_PATH',
      { TEMPORAL_TLS_CLIENT_CERT_PATH: missing, TEMPORAL_TLS_CLIENT_KEY_PATH: key },
    ],
    [
      'TEMPORAL_TLS_CLIENT_KEY_PATH',
      { TEMPORAL_TLS_CLIENT_CERT_PATH: cert, TEMPORAL_TLS_CLIENT_KEY_PATH: missing },
    ],
    ['TEMPORAL_TLS_SERVER_CA_CERT_PATH', { TEMPORAL_TLS_SERVER_CA_CERT_PATH: missing }],
  ])('names %s when the file it names cannot be read, and what to do', (variable, env) => {
    expect(() => options(env)).toThrow(
      `Temporal TLS: ${variable} names ${missing}, which cannot be read (ENOENT). Point it at the PEM file of`,
    );
  });

  it('names the variable and the profile key when a TOML profile gives the certificate without the key', () => {
    const profile = path.join(dir, 'temporal.toml');
    fs.writeFileSync(profile, `[profile.default.tls]\nclient_cert_path = ${JSON.stringify(cert)}\n`);
    expect(() => options({ TEMPORAL_CONFIG_FILE: profile })).toThrow(
      'Temporal mTLS: TEMPORAL_TLS_CLIENT_CERT_PATH (here tls.client_cert_path of TEMPORAL_CONFIG_FILE) ' +
        'is set but TEMPORAL_TLS_CLIENT_KEY_PATH is not.',
    );
  });

  it('refuses a client certificate given as PEM text without its key, naming that variable', () => {
    expect(() => options({ TEMPORAL_TLS_CLIENT_CERT_DATA: fs.readFileSync(cert, 'utf8') })).toThrow(
      'Temporal mTLS: TEMPORAL_TLS_CLIENT_CERT_DATA is set but TEMPORAL_TLS_CLIENT_KEY_PATH is not.',
    );
  });
});
