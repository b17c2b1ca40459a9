import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { Address } from '../../../runtime-lambda/core/Address';
import type { DeadLetter } from '../../../runtime-lambda/core/AddressState';
import { OUTBOX_ATTR } from '../../../runtime-lambda/aws/commitItems';
import { ConfigurationError } from '../../../runtime-lambda/aws/envConfig';
import { dispatcherHandlerFromEnv } from '../../../runtime-lambda/handlers/dispatcher';
import { lambdaPowertools, traced } from '../../../runtime-lambda/handlers/observability/powertools';
import { DISPATCHER_METRICS } from '../../../runtime-lambda/handlers/observability/telemetry';
import { StatefulFunctions, Types, defineFunction, message } from '../../../runtime-lambda/sdk';
import { lambdaHandler } from '../../../runtime-lambda/sdk/lambda';
import { kinesisEvent, kinesisRecordFactory } from '../../helpers/awsEventFactories';
import { dynamoClientConfig } from '../../support/awsClientConfig';
import { type DynamoStoreFixture, dynamoStoreFixture } from '../../support/dynamoStore';
import { type LambdaInvokeEmulator, startLambdaInvokeEmulator } from '../../support/lambdaInvokeEmulator';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:shop-functions';
const INGRESS = 'orders';
const SHARD = 'shardId-000000000000';

/** Counts orders per customer and reports each to the customer's audit address; "boom" throws. */
const counter = defineFunction({
  typename: 'shop/counter',
  state: { count: Types.int },
  handle(ctx, msg) {
    const text = Buffer.from(msg.rawValue ?? new Uint8Array()).toString();
    if (text === 'boom') throw new Error(`order ${text} cannot be counted`);
    ctx.storage.count = (ctx.storage.count ?? 0) + 1;
    ctx.send(message({ to: Address.of('shop/audit', ctx.self.id), value: `${text}#${ctx.storage.count}`, type: Types.string }));
  },
});

describe('Handler: dispatcher from env with a Lambda-hosted function (DynamoDB Local + Invoke API emulator)', () => {
  let fx: DynamoStoreFixture;
  let lambda: LambdaInvokeEmulator;
  let run = 0;
  // Powertools in development mode writes logs and EMF metrics to the global console (which
  // the tests read) instead of stdout; metrics are enabled explicitly, as dev mode mutes them.
  const savedEnv = { POWERTOOLS_DEV: process.env.POWERTOOLS_DEV, POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED };
  let log: jest.SpyInstance;
  let warn: jest.SpyInstance;
  const lines = (spy: jest.SpyInstance) => spy.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
  const context = { functionName: 'shop-dispatcher', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:shop-dispatcher', memoryLimitInMB: '512', awsRequestId: 'req-1' };

  beforeEach(() => {
    log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  beforeAll(async () => {
    process.env.POWERTOOLS_DEV = 'true';
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    fx = await dynamoStoreFixture();
    lambda = await startLambdaInvokeEmulator();
    lambda.register('shop-functions', lambdaHandler(new StatefulFunctions().withFunction(counter)));
  });
  afterAll(async () => {
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await lambda?.close();
    await fx?.close();
  });

  const handlerFromEnv = (extra: Record<string, string> = {}) =>
    dispatcherHandlerFromEnv(
      {
        STATEFUN_STATE_TABLE: fx.tableName,
        STATEFUN_OUTBOX_TABLE: fx.outboxTableName,
        STATEFUN_INBOX_TABLE: fx.inboxTableName,
        STATEFUN_FUNCTIONS: JSON.stringify({ 'shop/*': { lambda: ARN, timeoutMs: 5000, maxAttempts: 3 } }),
        STATEFUN_INGRESSES: JSON.stringify({ [INGRESS]: 'shop/counter' }),
        POWERTOOLS_SERVICE_NAME: 'shop-dispatcher',
        POWERTOOLS_METRICS_NAMESPACE: 'StatefulFunctions/test',
        ...extra,
      },
      { dynamoClientConfig: dynamoClientConfig(), lambdaClientConfig: lambda.clientConfig() },
    );

  const rawOutbox = async (address: Address) =>
    (
      await fx.client.send(
        new QueryCommand({
          TableName: fx.outboxTableName,
          KeyConditionExpression: '#a = :a',
          ExpressionAttributeNames: { '#a': OUTBOX_ATTR.address },
          ExpressionAttributeValues: { ':a': { S: address.key } },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];

  it('invokes the function through Lambda Invoke, retrying a throttle, and commits state and effects with the outbox TTL', async () => {
    // Prepare
    const id = `c-${run++}`;
    const address = Address.of('shop/counter', id);
    const handler = handlerFromEnv();
    lambda.failNext({ kind: 'throttle' });
    const before = lambda.invocations.length;

    // Act
    const response = await handler(
      kinesisEvent(
        kinesisRecordFactory({ stream: INGRESS, n: 1, partitionKey: id, data: 'apples' }),
        kinesisRecordFactory({ stream: INGRESS, n: 2, partitionKey: id, data: 'pears' }),
      ),
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const state = (await fx.store.load([address])).get(address.key)!;
    expect(Types.int.deserialize(state.values.get('count')!.value)).toBe(2);
    const audit = Address.of('shop/audit', id);
    const [entry] = (await fx.store.readInbox([audit], 10)).get(audit.key)!.entries;
    expect(entry!.envelopes.map((m) => [m.target.key, Types.string.deserialize(m.argument.value!)])).toEqual([
      [`shop/audit/${id}`, 'apples#1'],
      [`shop/audit/${id}`, 'pears#2'],
    ]);
    // One batch, one function call (missing-state round trip included), plus the throttled attempt.
    const calls = lambda.invocations.slice(before);
    expect(calls[0]).toMatchObject({ functionName: 'shop-functions', fault: 'throttle' });
    expect(calls.slice(1).every((c) => c.fault === undefined)).toBe(true);
    const [item] = await rawOutbox(address);
    const committedAtMs = state.marks.get(`${INGRESS}/${SHARD}`)!.atMs;
    expect(Number(item![OUTBOX_ATTR.ttl]!.N)).toBe(Math.floor(committedAtMs / 1000) + 7 * 24 * 60 * 60);
    // One EMF document per invocation, in the namespace and with the service dimension the construct's dashboard reads.
    expect(lines(log)).toEqual([
      {
        _aws: {
          Timestamp: expect.any(Number),
          CloudWatchMetrics: [
            {
              Namespace: 'StatefulFunctions/test',
              Dimensions: [['service']],
              Metrics: [
                { Name: DISPATCHER_METRICS.recordsReceived, Unit: 'Count' },
                { Name: DISPATCHER_METRICS.messagesApplied, Unit: 'Count' },
              ],
            },
          ],
        },
        service: 'shop-dispatcher',
        [DISPATCHER_METRICS.recordsReceived]: 2,
        [DISPATCHER_METRICS.messagesApplied]: 2,
      },
    ]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('dead-letters the message when the Lambda function throws, naming the function ARN and the error', async () => {
    // Prepare
    const id = `c-${run++}`;
    const address = Address.of('shop/counter', id);
    const handler = handlerFromEnv({ STATEFUN_OUTBOX_TTL_DAYS: '10' });

    // Act
    const response = await handler(kinesisEvent(kinesisRecordFactory({ stream: INGRESS, n: 1, partitionKey: id, data: 'boom' })));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const [effects] = await fx.outboxOf(address);
    const [deadLetter] = effects!.deadLetters as DeadLetter[];
    expect(deadLetter!.reason).toContain(`Lambda function ${ARN} failed (FunctionError Unhandled): FunctionFailedError:`);
    expect(deadLetter!.reason).toContain('order boom cannot be counted');
    const [item] = await rawOutbox(address);
    expect(Number(item![OUTBOX_ATTR.ttl]!.N)).toBe(Math.floor(deadLetter!.atMs / 1000) + 10 * 24 * 60 * 60);
    expect(lines(log)).toEqual([expect.objectContaining({ service: 'shop-dispatcher', [DISPATCHER_METRICS.recordsReceived]: 1, [DISPATCHER_METRICS.deadLetters]: 1 })]);
  });

  it('logs an undecodable record as a structured warning with the Lambda context', async () => {
    // Prepare
    const handler = handlerFromEnv();

    // Act
    const response = await handler(kinesisEvent(kinesisRecordFactory({ stream: 'unconfigured', n: 1, partitionKey: 'k', data: 'raw' })), context);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(lines(warn)).toEqual([
      expect.objectContaining({
        level: 'WARN',
        message: 'undecodable record: dead-lettering it',
        service: 'shop-dispatcher',
        function_name: 'shop-dispatcher',
        function_request_id: 'req-1',
        stream: 'unconfigured',
        shardId: SHARD,
        reason: expect.stringContaining('stream unconfigured is not a configured ingress'),
      }),
    ]);
  });

  it('runs untraced with POWERTOOLS_TRACE_ENABLED=false: no Tracer, clients as they are, the batch committed', async () => {
    // Prepare
    const id = `c-${run++}`;
    const address = Address.of('shop/counter', id);
    const handler = handlerFromEnv({ POWERTOOLS_TRACE_ENABLED: 'false' });
    const untraced = lambdaPowertools({ POWERTOOLS_TRACE_ENABLED: 'false' }, 'statefun-test');
    const client = { send: async () => undefined };

    // Act
    const response = await handler(kinesisEvent(kinesisRecordFactory({ stream: INGRESS, n: 1, partitionKey: id, data: 'plums' })));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(Types.int.deserialize((await fx.store.load([address])).get(address.key)!.values.get('count')!.value)).toBe(1);
    expect(untraced.tracer).toBeUndefined();
    expect(traced(untraced, client)).toBe(client);
    expect(lambdaPowertools({}, 'statefun-test').tracer).toBeDefined();
  });

  it('rejects an unknown POWERTOOLS_LOG_LEVEL, naming the levels', () => {
    const make = () => handlerFromEnv({ POWERTOOLS_LOG_LEVEL: 'LOUD' });
    expect(make).toThrow(ConfigurationError);
    expect(make).toThrow('POWERTOOLS_LOG_LEVEL="LOUD" is not a log level: set one of TRACE, DEBUG, INFO, WARN, ERROR, SILENT, CRITICAL, e.g. POWERTOOLS_LOG_LEVEL=INFO');
  });
});
