import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigurationError, jsonObjectEnv } from './envConfig';

const EXAMPLE = '{"authorization":{"secretArn":"arn:aws:secretsmanager:us-east-1:123456789012:secret:functions-token-AbCdEf","field":"header"}}';

/**
 * `STATEFUN_HTTP_HEADER_SECRETS`: header name → `{ secretArn, field? }`, the headers every
 * request to an HTTP function endpoint carries (e.g. `authorization`), their values read from
 * AWS Secrets Manager once, when the dispatcher starts: the secret's string, or the `field`
 * of its JSON. Unset: no headers.
 *
 * @throws {@link ConfigurationError} for a malformed variable or a secret without the value;
 *   a failed `GetSecretValue` (throttled, denied) is thrown as it is, so the start is retried.
 *
 * @example
 * const headers = await httpHeadersFromEnv(process.env);
 */
export async function httpHeadersFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  client: Pick<SecretsManagerClient, 'send'> = new SecretsManagerClient({}),
  name = 'STATEFUN_HTTP_HEADER_SECRETS',
): Promise<Record<string, string>> {
  const raw = jsonObjectEnv(env, name, EXAMPLE);
  const headers: Record<string, string> = {};
  for (const [header, spec] of Object.entries(raw)) {
    const where = `${name}: header ${JSON.stringify(header)}`;
    const { secretArn, field } = (spec ?? {}) as { secretArn?: unknown; field?: unknown };
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) throw new ConfigurationError(`${where}: not a valid HTTP header name`);
    if (typeof secretArn !== 'string' || secretArn === '' || (field !== undefined && typeof field !== 'string')) {
      throw new ConfigurationError(`${where} maps to ${JSON.stringify(spec)}: expected {"secretArn": "<ARN>", "field"?: "<JSON key>"}, e.g. ${EXAMPLE}`);
    }
    const secret = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    if (secret.SecretString === undefined) throw new ConfigurationError(`${where}: secret ${secretArn} holds no string (a binary secret cannot be a header value)`);
    headers[header] = field === undefined ? secret.SecretString : fieldOf(secret.SecretString, field, `${where}: secret ${secretArn}`);
  }
  return headers;
}

function fieldOf(text: string, field: string, where: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigurationError(`${where} is not JSON, so it has no field ${JSON.stringify(field)}: store a JSON object, or leave "field" out to use the whole string`);
  }
  const value = (parsed as Record<string, unknown> | null)?.[field];
  if (typeof value !== 'string') throw new ConfigurationError(`${where} has no string field ${JSON.stringify(field)}`);
  return value;
}
