import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { loadClientConfigProfile, toClientOptions, type ClientConfigTLS } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { Environment } from './config';
import type { DataConverter, PayloadCodec, SearchAttributeType } from '@temporalio/common';
import {
  encodeSearchAttributeIndexedValueType,
  type SearchAttributeKey,
} from '@temporalio/common/lib/search-attributes';

/** The environment's Temporal client settings (platform/config.ts documents each). */
export type TemporalClientEnvironment = Pick<
  Environment,
  | 'TEMPORAL_API_KEY'
  | 'TEMPORAL_TLS'
  | 'TEMPORAL_TLS_SERVER_CA_CERT_PATH'
  | 'TEMPORAL_TLS_SERVER_CA_CERT_DATA'
  | 'TEMPORAL_TLS_CLIENT_CERT_PATH'
  | 'TEMPORAL_TLS_CLIENT_CERT_DATA'
  | 'TEMPORAL_TLS_CLIENT_KEY_PATH'
  | 'TEMPORAL_TLS_CLIENT_KEY_DATA'
  | 'TEMPORAL_TLS_SERVER_NAME'
  | 'TEMPORAL_CONFIG_FILE'
  | 'TEMPORAL_PROFILE'
>;

/** What the client's and the worker's connections to Temporal are opened with. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: NativeConnectionOptions['tls'];
  apiKey?: string;
  metadata?: Record<string, string>;
}

/**
 * TLS, mTLS and the API key, read the way Temporal's SDKs and CLI read them
 * (`@temporalio/envconfig`: the `TEMPORAL_*` variables over an optional TOML profile), so a
 * platform team's existing Temporal settings work unchanged. The address is Easel's own
 * (TEMPORAL_ADDRESS, or the dev stack's).
 */
export function temporalConnectionOptions(
  env: TemporalClientEnvironment,
  address: string,
): TemporalConnectionOptions {
  const overrideEnvVars = Object.fromEntries(
    Object.entries(env)
      .filter(([name, value]) => name.startsWith('TEMPORAL_') && value !== undefined)
      .map(([name, value]) => [name, String(value)]),
  );
  const profile = loadClientConfigProfile({
    overrideEnvVars,
    ...(env.TEMPORAL_CONFIG_FILE
      ? { configSource: { path: env.TEMPORAL_CONFIG_FILE } }
      : { disableFile: true }),
    ...(env.TEMPORAL_PROFILE && { profile: env.TEMPORAL_PROFILE }),
  });
  checkTlsFiles(profile.tls, env);
  const { connectionOptions } = toClientOptions(profile);
  return {
    address,
    ...(connectionOptions.tls !== undefined && { tls: connectionOptions.tls }),
    ...(connectionOptions.apiKey !== undefined && { apiKey: connectionOptions.apiKey }),
    ...(connectionOptions.metadata && { metadata: connectionOptions.metadata as Record<string, string> }),
  };
}

/** The TLS files, each with the variables that give it and the profile key that can instead. */
const TLS_FILES = {
  clientCert: {
    path: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
    data: 'TEMPORAL_TLS_CLIENT_CERT_DATA',
    profileKey: 'tls.client_cert_path',
    what: 'the client certificate',
  },
  clientKey: {
    path: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
    data: 'TEMPORAL_TLS_CLIENT_KEY_DATA',
    profileKey: 'tls.client_key_path',
    what: 'the client certificate’s private key',
  },
  serverCACert: {
    path: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
    data: 'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
    profileKey: 'tls.server_ca_cert_path',
    what: 'the CA certificate the Temporal frontend’s certificate is signed by',
  },
} as const;

/**
 * Stops start-up with what to set when the TLS settings cannot work: a client certificate
 * without its key (or a key without its certificate) would otherwise connect without mTLS and be
 * refused by the server with a handshake error, and a file that cannot be read would surface as a
 * bare ENOENT naming no variable.
 */
function checkTlsFiles(tls: ClientConfigTLS | undefined, env: TemporalClientEnvironment): void {
  if (!tls || tls.disabled) return;
  // A setting from the TOML profile rather than the environment is named as the profile's key too.
  const named = (file: (typeof TLS_FILES)[keyof typeof TLS_FILES]) => {
    if (env[file.path] !== undefined) return file.path;
    if (env[file.data] !== undefined) return file.data;
    return env.TEMPORAL_CONFIG_FILE
      ? `${file.path} (here ${file.profileKey} of TEMPORAL_CONFIG_FILE)`
      : file.path;
  };
  const { clientCert: cert, clientKey: key } = TLS_FILES;
  if (tls.clientCert && !tls.clientKey) {
    throw new Error(
      `Temporal mTLS: ${named(cert)} is set but ${key.path} is not. Set ${key.path} to the PEM file of ` +
        `${key.what} (or ${key.data} to its PEM text), or unset ${cert.path} to connect without a client certificate.`,
    );
  }
  if (tls.clientKey && !tls.clientCert) {
    throw new Error(
      `Temporal mTLS: ${named(key)} is set but ${cert.path} is not. Set ${cert.path} to the PEM file of ` +
        `${cert.what} (or ${cert.data} to its PEM text), or unset ${key.path} to connect without a client certificate.`,
    );
  }
  for (const [field, file] of Object.entries(TLS_FILES)) {
    const source = tls[field as keyof typeof TLS_FILES];
    if (!source || !('path' in source)) continue;
    try {
      fs.readFileSync(source.path);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new Error(
        `Temporal TLS: ${named(file)} names ${source.path}, which cannot be read (${reason}). ` +
          `Point it at the PEM file of ${file.what}, or give its PEM text in ${file.data} instead.`,
      );
    }
  }
}

export interface TemporalSettings {
  /** Where and how to connect (temporalConnectionOptions). */
  connection: TemporalConnectionOptions;
  namespace: string;
  taskQueue: string;
  /**
   * Encrypts what the client sends and decrypts what it reads (`EncryptionCodec`); the worker
   * must use the same one. Left out only by the bench's bare-Temporal baseline.
   */
  payloadCodec?: PayloadCodec;
}

export async function connectTemporal(
  settings: TemporalSettings,
): Promise<{ connection: Connection; client: Client }> {
  const connection = await Connection.connect(settings.connection);
  const client = new Client({
    connection,
    namespace: settings.namespace,
    ...(settings.payloadCodec && { dataConverter: encryptingDataConverter(settings.payloadCodec) }),
  });
  return { connection, client };
}

/**
 * What the client and the worker convert payloads with: the codec encrypts every payload, and the
 * failure converter turns failure messages and stack traces into one as well.
 */
export function encryptingDataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath: require.resolve('./failure-converter') };
}

export async function pingTemporal(connection: Connection): Promise<void> {
  await connection.withDeadline(Date.now() + 1_500, () => connection.workflowService.getSystemInfo({}));
}

/**
 * Makes sure the namespace has these custom search attributes: a workflow start naming one it
 * lacks is refused, which would fail every submission. Missing ones are created where the
 * namespace allows it (a self-hosted cluster); where it does not (Temporal Cloud, a locked-down
 * cluster) start-up stops and says what to create.
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  keys: readonly SearchAttributeKey<SearchAttributeType>[],
): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = keys.filter((k) => !(customAttributes && k.name in customAttributes));
  if (missing.length === 0) return;
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!]),
      ),
    });
  } catch (err) {
    const commands = missing
      .map(
        (k) =>
          `temporal operator search-attribute create --namespace ${namespace} --name ${k.name} --type ${k.type === 'KEYWORD' ? 'Keyword' : k.type}`,
      )
      .join('; ');
    throw new Error(
      `Temporal namespace "${namespace}" lacks the search attributes ${missing.map((k) => k.name).join(', ')} ` +
        `and refused to create them (${(err as Error).message}). Create them once: ${commands} ` +
        '(on Temporal Cloud: tcld namespace search-attributes add, or the Cloud UI).',
    );
  }
}
