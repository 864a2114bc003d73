import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { encodeS3Path, MAX_PRESIGNED_SECONDS, presignS3Get } from '../../platform/s3-presign';

/** The synchronous SigV4 presigner must sign exactly as the AWS SDK's own (async) presigner. */
describe('S3 presigned GET URLs', () => {
  const credentials = {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  };
  const signedAt = new Date('2026-12-01T15:40:00Z');
  const key = 'some prefix/(1)/abcDEF0123456789abcDEF0123456789.png';

  it.each([
    ['AWS, virtual-hosted', { region: 'eu-west-1' }, 'https://my-bucket.s3.eu-west-1.amazonaws.com', {}],
    [
      'an S3-compatible server, path style',
      { region: 'us-east-1', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true },
      'http://127.0.0.1:9000/my-bucket',
      {},
    ],
    [
      'temporary credentials',
      { region: 'eu-west-1' },
      'https://my-bucket.s3.eu-west-1.amazonaws.com',
      { sessionToken: 'to/ken+=' },
    ],
  ])('are byte for byte those of @aws-sdk/s3-request-presigner (%s)', async (_name, config, base, extra) => {
    const given = { ...credentials, ...extra };
    const client = new S3Client({
      ...config,
      credentials: given,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const sdk = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'my-bucket', Key: key }), {
      expiresIn: 3600,
      signingDate: signedAt,
    });
    const ours = presignS3Get({
      objectUrl: `${base}/${encodeS3Path(key)}`,
      region: config.region,
      credentials: given,
      signedAt,
      expiresInSeconds: 3600,
    });
    expect(ours).toBe(sdk);
    client.destroy();
  });

  it('never asks for longer than S3 allows', () => {
    const url = presignS3Get({
      objectUrl: 'https://b.s3.eu-west-1.amazonaws.com/k.png',
      region: 'eu-west-1',
      credentials,
      signedAt,
      expiresInSeconds: MAX_PRESIGNED_SECONDS + 60,
    });
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe(String(MAX_PRESIGNED_SECONDS));
  });
});
