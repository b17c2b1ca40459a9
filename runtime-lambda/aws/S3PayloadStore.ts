import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { InvalidInputError, RetryableError, TerminalError, describeError } from '../core/errors';
import type { PayloadStore } from '../core/ports/PayloadStore';

/**
 * The {@link PayloadStore} on S3: objects under `prefix` in `bucket`, referenced as
 * `s3://bucket/key`. The CDK construct creates the bucket (encrypted, private, objects
 * expiring after the dead-letter queue's retention).
 *
 * @example
 * const payloads = new S3PayloadStore({ client: new S3Client({}), bucket: 'statefun-payloads' });
 * const ref = await payloads.put('dead-letters/abc.json', bytes); // "s3://statefun-payloads/dead-letters/abc.json"
 */
export class S3PayloadStore implements PayloadStore {
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(options: { readonly client: S3Client; readonly bucket: string }) {
    if (!options.bucket) throw new InvalidInputError('S3PayloadStore needs a bucket name');
    this.client = options.client;
    this.bucket = options.bucket;
  }

  async put(key: string, bytes: Uint8Array): Promise<string> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentType: 'application/json' }));
    } catch (error) {
      throw s3Error(error, `PutObject s3://${this.bucket}/${key}`);
    }
    return `s3://${this.bucket}/${key}`;
  }

  async get(ref: string): Promise<Uint8Array> {
    const { bucket, key } = parseS3Ref(ref);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return await out.Body!.transformToByteArray();
    } catch (error) {
      throw s3Error(error, `GetObject ${ref}`);
    }
  }
}

/**
 * `{ payloads }` on the bucket named by `STATEFUN_PAYLOAD_BUCKET`, or nothing when it is
 * unset; `wrap` gets the client first (e.g. to trace it). Path-style addressing when
 * `AWS_ENDPOINT_URL` points at an emulator (LocalStack, moto), as they serve it.
 *
 * @example
 * const dispatcherOptions = { ...payloadStoreFromEnv(process.env) };
 */
export function payloadStoreFromEnv(env: Readonly<Record<string, string | undefined>>, wrap: (client: S3Client) => S3Client = (client) => client): { payloads?: PayloadStore } {
  const bucket = env.STATEFUN_PAYLOAD_BUCKET?.trim();
  if (!bucket) return {};
  return { payloads: new S3PayloadStore({ client: wrap(new S3Client({ forcePathStyle: env.AWS_ENDPOINT_URL !== undefined })), bucket }) };
}

/**
 * The bucket and key of an `s3://bucket/key` reference.
 *
 * @throws {@link InvalidInputError} for anything else.
 */
export function parseS3Ref(ref: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(ref);
  if (match === null) throw new InvalidInputError(`payload reference ${JSON.stringify(ref)} is not "s3://bucket/key"`);
  return { bucket: match[1]!, key: match[2]! };
}

function s3Error(error: unknown, context: string): Error {
  const { $fault, name } = (error ?? {}) as { $fault?: string; name?: string };
  if ($fault === 'client' && name !== 'SlowDown') {
    return new TerminalError(`${context}: ${describeError(error)}: check the bucket and the caller's permissions`, { cause: error, code: 'PAYLOAD_STORE_REJECTED' });
  }
  return new RetryableError(`${context}: ${describeError(error)}`, { cause: error, code: 'PAYLOAD_STORE_UNAVAILABLE' });
}
