import { AuthenticationError, MultipleErrors, NetworkError, ProtocolError, ResponseError } from '@platformatic/kafka';
import { TerminalError } from '../../../runtime-lambda/core/errors';
import { type CredentialSources, connectionOptions, isTerminalKafkaError, mskIamTokenFromSigner } from '../../../runtime-lambda/aws/KafkaProducers';

describe('Function: connectionOptions', () => {
  const calls: string[] = [];
  const sources: CredentialSources = {
    secret: async (arn) => {
      calls.push(`secret ${arn}`);
      return { username: 'relay', password: 's3cret' };
    },
    mskIamToken: async (region) => {
      calls.push(`token ${region}`);
      return `token-for-${region}`;
    },
  };
  beforeEach(() => calls.splice(0));

  it('signs an MSK IAM token when a connection authenticates, over TLS', async () => {
    // Act
    const options = connectionOptions({ bootstrapServers: ['b-1:9098'], sasl: { mechanism: 'AWS_MSK_IAM', region: 'eu-west-1' } }, sources);

    // Assess
    expect(options.tls).toEqual({});
    expect(options.sasl?.mechanism).toBe('OAUTHBEARER');
    expect(calls).toEqual([]);
    expect(await (options.sasl!.token as () => Promise<string>)()).toBe('token-for-eu-west-1');
    expect(await (options.sasl!.token as () => Promise<string>)()).toBe('token-for-eu-west-1');
    expect(calls).toEqual(['token eu-west-1', 'token eu-west-1']);
  });

  it('reads SCRAM credentials from the secret when a connection authenticates', async () => {
    // Act
    const options = connectionOptions({ bootstrapServers: ['b-1:9096'], tls: true, sasl: { mechanism: 'SCRAM-SHA-512', secretArn: 'arn:secret' } }, sources);

    // Assess
    expect(options.tls).toEqual({});
    expect(options.sasl?.mechanism).toBe('SCRAM-SHA-512');
    expect(calls).toEqual([]);
    expect(await (options.sasl!.username as () => Promise<string>)()).toBe('relay');
    expect(await (options.sasl!.password as () => Promise<string>)()).toBe('s3cret');
    expect(calls).toEqual(['secret arn:secret', 'secret arn:secret']);
  });

  it('passes a given user, a CA and a server name; no TLS and no SASL unless asked', () => {
    // Assess
    expect(connectionOptions({ bootstrapServers: ['k:9093'], tls: { caPem: 'PEM', serverName: 'kafka.internal' }, sasl: { mechanism: 'PLAIN', username: 'u', password: 'p' } }, sources)).toEqual({
      tls: { ca: 'PEM', servername: 'kafka.internal' },
      sasl: { mechanism: 'PLAIN', username: 'u', password: 'p' },
    });
    expect(connectionOptions({ bootstrapServers: ['k:9092'] }, sources)).toEqual({});
  });

  it('needs a region for MSK IAM', () => {
    // Prepare
    const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;

    // Act
    const act = () => connectionOptions({ bootstrapServers: ['b-1:9098'], sasl: { mechanism: 'AWS_MSK_IAM' } }, sources);

    // Assess
    try {
      expect(act).toThrow(TerminalError);
      expect(act).toThrow('Kafka AWS_MSK_IAM authentication needs the cluster\'s region: set "region" in the egress\'s kafkaCluster.sasl, or AWS_REGION');
    } finally {
      Object.assign(process.env, Object.fromEntries(Object.entries(saved).filter(([, v]) => v !== undefined)));
    }
  });
});

describe('Function: mskIamTokenFromSigner', () => {
  it('signs a token for kafka-cluster:Connect in the region with the credentials of the environment (signed locally, no call)', async () => {
    // Prepare
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'AKIAEXAMPLEKEY';
    process.env.AWS_SECRET_ACCESS_KEY = 'example-secret';

    // Act
    let token: string;
    try {
      token = await mskIamTokenFromSigner('eu-west-1');
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    }

    // Assess: a base64url presigned URL of kafka.<region>.amazonaws.com
    const url = new URL(Buffer.from(token, 'base64url').toString('utf8'));
    expect(url.host).toBe('kafka.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('kafka-cluster:Connect');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIAEXAMPLEKEY\/\d{8}\/eu-west-1\/kafka-cluster\/aws4_request$/);
  });
});

/** The shape the client reports a failed TLS handshake in: Node's error under its own. */
function tlsFailure(code: string, message: string): Error {
  return new MultipleErrors('Cannot connect to any broker.', [new NetworkError('Connection to 127.0.0.1:9096 failed.', { cause: Object.assign(new Error(message), { code }) })]);
}

describe('Function: isTerminalKafkaError', () => {
  it.each<[string, Error, boolean]>([
    ['an unknown topic, wrapped in a response error', new ResponseError(0, 9, { '/topics/0': [3, null] }, {}), true],
    ['a denied topic', new ProtocolError('TOPIC_AUTHORIZATION_FAILED'), true],
    ['a record too large, inside an aggregate', new MultipleErrors('Producing messages failed.', [new ProtocolError('MESSAGE_TOO_LARGE')]), true],
    ['a failed SASL authentication', new AuthenticationError('SASL authentication failed.'), true],
    ['a broker certificate from an untrusted CA, under the connection error', tlsFailure('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), true],
    ['a broker certificate for another name', tlsFailure('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"), true],
    ['a connection reset during the handshake', tlsFailure('ECONNRESET', 'socket hang up'), false],
    ['a leader that moved', new ProtocolError('NOT_LEADER_OR_FOLLOWER'), false],
    ['brokers that cannot be reached', new MultipleErrors('Cannot connect to any broker.', [new NetworkError('Connection refused')]), false],
    ['an error of another kind', new Error('socket hang up'), false],
  ])('%s: %s', (_what, error, terminal) => {
    expect(isTerminalKafkaError(error)).toBe(terminal);
  });
});
