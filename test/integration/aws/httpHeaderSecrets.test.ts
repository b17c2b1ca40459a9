import { randomUUID } from 'node:crypto';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigurationError } from '../../../runtime-lambda/aws/envConfig';
import { httpHeadersFromEnv } from '../../../runtime-lambda/aws/httpHeaderSecrets';
import { awsClientConfig } from '../../support/awsClientConfig';

describe('STATEFUN_HTTP_HEADER_SECRETS: HTTP headers from Secrets Manager (moto)', () => {
  const client = new SecretsManagerClient(awsClientConfig());
  const suffix = randomUUID().slice(0, 8);
  let plain: string;
  let json: string;
  let binary: string;

  beforeAll(async () => {
    plain = (await client.send(new CreateSecretCommand({ Name: `token-${suffix}`, SecretString: 'Bearer plain-t0ken' }))).ARN!;
    json = (await client.send(new CreateSecretCommand({ Name: `json-${suffix}`, SecretString: JSON.stringify({ header: 'Bearer json-t0ken', other: 1 }) }))).ARN!;
    binary = (await client.send(new CreateSecretCommand({ Name: `binary-${suffix}`, SecretBinary: new Uint8Array([1, 2, 3]) }))).ARN!;
  });
  afterAll(() => client.destroy());

  const env = (value: unknown) => ({ STATEFUN_HTTP_HEADER_SECRETS: JSON.stringify(value) });

  it('reads each header from its secret: the whole string, or a field of its JSON', async () => {
    const headers = await httpHeadersFromEnv(env({ authorization: { secretArn: plain }, 'x-api-key': { secretArn: json, field: 'header' } }), client);
    expect(headers).toEqual({ authorization: 'Bearer plain-t0ken', 'x-api-key': 'Bearer json-t0ken' });
    expect(await httpHeadersFromEnv({}, client)).toEqual({});
  });

  it.each([
    ['a field of a secret that is not JSON', () => ({ authorization: { secretArn: plain, field: 'header' } }), 'is not JSON, so it has no field "header"'],
    ['a field the JSON does not have', () => ({ authorization: { secretArn: json, field: 'missing' } }), 'has no string field "missing"'],
    ['a field that is not a string', () => ({ authorization: { secretArn: json, field: 'other' } }), 'has no string field "other"'],
    ['a binary secret', () => ({ authorization: { secretArn: binary } }), 'holds no string (a binary secret cannot be a header value)'],
    ['no secret ARN', () => ({ authorization: { field: 'x' } }), 'STATEFUN_HTTP_HEADER_SECRETS: header "authorization" maps to {"field":"x"}: expected {"secretArn": "<ARN>", "field"?: "<JSON key>"}'],
    ['a header name with a space', () => ({ 'bad header': { secretArn: plain } }), 'STATEFUN_HTTP_HEADER_SECRETS: header "bad header": not a valid HTTP header name'],
  ])('refuses %s with a ConfigurationError naming the header', async (_what, value, message) => {
    const read = httpHeadersFromEnv(env(value()), client);
    await expect(read).rejects.toThrow(ConfigurationError);
    await expect(httpHeadersFromEnv(env(value()), client)).rejects.toThrow(message);
  });

  it('passes a failed GetSecretValue on as it is (not a configuration error), so the next start tries again', async () => {
    const read = httpHeadersFromEnv(env({ authorization: { secretArn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:none-${suffix}` } }), client);
    await expect(read).rejects.toThrow(expect.objectContaining({ name: 'ResourceNotFoundException' }));
  });
});
