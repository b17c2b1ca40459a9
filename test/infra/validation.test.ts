import { Duration } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { StatefulFunctions, type StatefulFunctionsProps } from '../../infra/lib/StatefulFunctions';
import { propsError, testStack } from './helpers';

const HTTP = { remoteFunctions: [{ kind: 'http', functionType: 'shop/*', url: 'https://functions.example.com/statefun' }] } satisfies StatefulFunctionsProps;

describe('Construct: StatefulFunctions, validation', () => {
  test('no functions at all', () => {
    // Act
    const error = propsError(() => ({}));
    // Assess
    expect(error.message).toBe(
      'StatefulFunctions Test/App: embeddedFunctions / remoteFunctions / module is not set: the dispatcher needs functions to call: set embeddedFunctions: { entry: "path/to/registry.ts" }, remoteFunctions: [{ kind: "lambda", functionType: "ns/*", function }] or a module with endpoints',
    );
    expect(error.name).toBe('StatefulFunctionsPropsError');
  });

  test('a shard count on an on-demand stream', () => {
    const error = propsError(() => ({ ...HTTP, messageStreamShardCount: 4 }));
    expect(error).toMatchObject({ path: 'Test/App', prop: 'messageStreamShardCount', value: 4 });
    expect(error.message).toBe(
      'StatefulFunctions Test/App: messageStreamShardCount is 4: an on-demand stream scales by itself: remove messageStreamShardCount or set messageStreamMode: kinesis.StreamMode.PROVISIONED',
    );
  });

  test.each<[string, Partial<StatefulFunctionsProps>, string]>([
    ['messageStreamShardCount', { messageStreamMode: kinesis.StreamMode.PROVISIONED, messageStreamShardCount: 0 }, 'messageStreamShardCount is 0: give a whole number from 1 to 10000'],
    ['batchSize', { batchSize: 10001 }, 'batchSize is 10001: give a whole number from 1 to 10000'],
    ['parallelizationFactor', { parallelizationFactor: 1.5 }, 'parallelizationFactor is 1.5: give a whole number from 1 to 10'],
    ['retryAttempts', { retryAttempts: -1 }, 'retryAttempts is -1: give a whole number from 0 to 10000'],
    ['maxRecordAge', { maxRecordAge: Duration.days(8) }, 'maxRecordAge is 8 days: give a duration from 1 minute to 7 days'],
    ['messageStreamRetention', { messageStreamRetention: Duration.hours(12) }, 'messageStreamRetention is 12 hours: give a duration from 1 day to 365 days'],
    ['dispatcherMemorySizeMiB', { dispatcherMemorySizeMiB: 64 }, 'dispatcherMemorySizeMiB is 64: give a whole number from 128 to 10240'],
    ['dispatcherTimeout', { dispatcherTimeout: Duration.minutes(16) }, 'dispatcherTimeout is 16 minutes: give a duration from 1 second to 15 minutes'],
  ])('%s out of range', (prop, bad, message) => {
    const error = propsError(() => ({ ...HTTP, ...bad }));
    expect(error.prop).toBe(prop);
    expect(error.message).toBe(`StatefulFunctions Test/App: ${message}`);
  });

  test.each<[Partial<StatefulFunctionsProps>, string]>([
    [{ duplicateWindow: Duration.minutes(30) }, 'duplicateWindow is 30 minutes: give a duration from 1 hour to 365 days'],
    [
      { duplicateWindow: Duration.hours(12) },
      'duplicateWindow is "12 hours": it must be at least messageStreamRetention (1 day): a record the mappings can still deliver would be dead-lettered instead of applied; raise duplicateWindow or lower messageStreamRetention',
    ],
    [
      { duplicateWindow: Duration.days(2), messageStreamRetention: Duration.days(2), maxRecordAge: Duration.days(3) },
      'duplicateWindow is "2 days": it must be at least maxRecordAge (3 days): a record the mappings can still deliver would be dead-lettered instead of applied; raise duplicateWindow or lower maxRecordAge',
    ],
    [
      { messageStreamRetention: Duration.days(30) },
      'duplicateWindow is not set: the default of 7 days is shorter than messageStreamRetention (30 days): set duplicateWindow to at least 30 days, so a record replayed from the stream is recognised as applied',
    ],
  ])('a duplicate window shorter than what the mappings can deliver %j', (bad, message) => {
    const error = propsError(() => ({ ...HTTP, ...bad }));
    expect(error.prop).toBe('duplicateWindow');
    expect(error.message).toBe(`StatefulFunctions Test/App: ${message}`);
  });

  test.each<[Partial<StatefulFunctionsProps>, string]>([
    [{ logLevel: 'LOUD' as never }, 'logLevel is "LOUD": give "DEBUG", "INFO", "WARN" or "ERROR"'],
    [{ metricsNamespace: 'AWS/Lambda' }, 'metricsNamespace is "AWS/Lambda": give 1 to 255 letters, digits or . - _ / # : and spaces, not starting with "AWS/" (reserved for AWS services), e.g. "StatefulFunctions/shop"'],
    [{ metricsNamespace: 'shop$metrics' }, 'metricsNamespace is "shop$metrics": give 1 to 255 letters, digits or . - _ / # : and spaces, not starting with "AWS/" (reserved for AWS services), e.g. "StatefulFunctions/shop"'],
  ])('a bad observability prop %j', (bad, message) => {
    const error = propsError(() => ({ ...HTTP, ...bad }));
    expect(error.message).toBe(`StatefulFunctions Test/App: ${message}`);
  });

  test.each([
    ['shop', 'remoteFunctions[0].functionType is "shop": '],
    ['shop/*/x', 'remoteFunctions[0].functionType is "shop/*/x": '],
    ['/*', 'remoteFunctions[0].functionType is "/*": '],
  ])('a bad function pattern %s', (functionType, start) => {
    const error = propsError(() => ({ remoteFunctions: [{ kind: 'http', functionType, url: 'https://x.example.com' }] }));
    expect(error.message).toContain(`StatefulFunctions Test/App: ${start}`);
    expect(error.message).toContain('use "namespace/type" or "namespace/*", e.g. "fraud/*"');
  });

  test('two endpoints for one pattern', () => {
    const error = propsError(() => ({ remoteFunctions: [...HTTP.remoteFunctions, ...HTTP.remoteFunctions] }));
    expect(error.message).toBe('StatefulFunctions Test/App: remoteFunctions[1].functionType is "shop/*": another remote endpoint serves this pattern already: keep one');
  });

  test('a relative URL', () => {
    const error = propsError(() => ({ remoteFunctions: [{ kind: 'http', functionType: 'shop/cart', url: '/statefun' }] }));
    expect(error.message).toBe('StatefulFunctions Test/App: remoteFunctions[0].url is "/statefun": give an absolute http(s) URL, e.g. "https://functions.example.com/statefun"');
  });

  test('a call timeout that does not fit in the dispatcher timeout less the time kept for commits', () => {
    const error = propsError(() => ({
      dispatcherTimeout: Duration.seconds(30),
      remoteFunctions: [{ kind: 'http', functionType: 'shop/cart', url: 'https://x.example.com', timeout: Duration.seconds(25) }],
    }));
    expect(error.message).toBe(
      "StatefulFunctions Test/App: remoteFunctions[0].timeout is 25 seconds: a call must end within the dispatcher's timeout (30 seconds) less the time kept for commits, 22.5 s (the timeout is 30 seconds unless set): lower it or raise dispatcherTimeout",
    );
  });

  test('the default call timeout against a short dispatcher timeout', () => {
    const error = propsError(() => ({ ...HTTP, dispatcherTimeout: Duration.seconds(20) }));
    expect(error.prop).toBe('remoteFunctions[0].timeout');
    expect(error.message).toContain('is 30 seconds: a call must end within the dispatcher\'s timeout (20 seconds) less the time kept for commits, 15 s');
  });

  test('call attempts that outlast one invocation are a synth warning, not an error', () => {
    const stack = testStack();
    new StatefulFunctions(stack, 'App', {
      remoteFunctions: [{ kind: 'http', functionType: 'shop/cart', url: 'https://x.example.com', timeout: Duration.seconds(20), maxAttempts: 3 }],
    });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('callAttemptsExceedInvocation'));
    expect(warnings.map((w) => String(w.entry.data))).toEqual([
      expect.stringContaining('remoteFunctions[0]: 3 attempts of 20 s can outlast one dispatcher invocation (50 s for calls): attempts past it are cut and the address backs off instead'),
    ]);
  });

  test.each<[Partial<StatefulFunctionsProps>, string]>([
    [{ retryBudget: Duration.days(7) }, 'retryBudget is 7 days: give a duration from 0 seconds to 6 days'],
    [{ backoffAlarmThreshold: Duration.seconds(10) }, 'backoffAlarmThreshold is 10 seconds: give a duration from 1 minute to 6 days'],
  ])('retry settings out of range: %j', (bad, message) => {
    const error = propsError(() => ({ ...HTTP, ...bad }));
    expect(error.message).toBe(`StatefulFunctions Test/App: ${message}`);
  });

  test('an embedded entry that does not exist', () => {
    const error = propsError(() => ({ embeddedFunctions: { entry: 'no/such/registry.ts' } }));
    expect(error.prop).toBe('embeddedFunctions.entry');
    expect(error.message).toMatch(/^StatefulFunctions Test\/App: embeddedFunctions.entry is "no\/such\/registry.ts": no file at \/.*no\/such\/registry.ts: give the path of the module that exports the StatefulFunctions registry$/);
  });

  test('a reserved variable in the embedded environment', () => {
    const error = propsError(() => ({ embeddedFunctions: { entry: __filename, environment: { STATEFUN_STATE_TABLE: 'x' } } }));
    expect(error.message).toBe('StatefulFunctions Test/App: embeddedFunctions.environment.STATEFUN_STATE_TABLE is "x": STATEFUN_* variables are set by the construct: rename the variable');
  });

  test('an ingress to a namespace pattern, and one stream twice', () => {
    const pattern = propsError((stack) => ({ ...HTTP, ingresses: [{ kind: 'kinesis', stream: new kinesis.Stream(stack, 'S'), functionType: 'shop/*' }] }));
    expect(pattern.prop).toBe('ingresses[0].functionType');
    expect(pattern.message).toContain('name function types, e.g. "fraud/transaction-manager" (no "*")');
    const none = propsError((stack) => ({ ...HTTP, ingresses: [{ kind: 'kinesis', stream: new kinesis.Stream(stack, 'S'), functionType: [] }] }));
    expect(none.message).toBe('StatefulFunctions Test/App: ingresses[0].functionType is []: name at least one function type, e.g. "fraud/transaction-manager"');

    const twice = propsError((stack) => {
      const stream = new kinesis.Stream(stack, 'S');
      return {
        ...HTTP,
        ingresses: [
          { kind: 'kinesis', stream, functionType: 'shop/a' },
          { kind: 'kinesis', stream, functionType: 'shop/b' },
        ],
      };
    });
    expect(twice.message).toBe(
      'StatefulFunctions Test/App: ingresses[1].stream is "Test/S": this stream is an ingress already: list every target of a stream in one ingress (functionType takes several)',
    );
  });

  test('an http:// endpoint without allowInsecureHttp, a header name with a space, subnets without a VPC', () => {
    const insecure = propsError(() => ({ remoteFunctions: [{ kind: 'http', functionType: 'shop/*', url: 'http://functions.internal/statefun' }] }));
    expect(insecure.message).toBe(
      'StatefulFunctions Test/App: remoteFunctions[0].url is "http://functions.internal/statefun": each call carries the state of its address, in the clear over http://: use https://, or set allowInsecureHttp: true if the network is yours (e.g. a private endpoint in the dispatcher\'s vpc)',
    );
    const stack = testStack();
    expect(() => new StatefulFunctions(stack, 'App', { allowInsecureHttp: true, remoteFunctions: [{ kind: 'http', functionType: 'shop/*', url: 'http://functions.internal/statefun' }] })).not.toThrow();
    const header = propsError(() => ({ ...HTTP, httpHeaders: { 'bad header': { secret: undefined as never } } }));
    expect(header.prop).toBe('httpHeaders["bad header"]');
    const subnets = propsError(() => ({ ...HTTP, vpcSubnets: { subnetGroupName: 'private' } }));
    expect(subnets.message).toBe('StatefulFunctions Test/App: vpc is not set: vpcSubnets and securityGroups place the dispatcher in a VPC: give the vpc as well');
  });

  test('an egress name without a namespace, and a message group on a standard queue', () => {
    const name = propsError((stack) => ({ ...HTTP, egresses: { alerts: { kind: 'sqs', queue: new sqs.Queue(stack, 'Q') } } }));
    expect(name.prop).toBe('egresses["alerts"]');
    expect(name.message).toContain('egress names are "namespace/name", as functions pass them to egressMessage, e.g. "fraud/alerts"');

    const group = propsError((stack) => ({ ...HTTP, egresses: { 'shop/out': { kind: 'sqs', queue: new sqs.Queue(stack, 'Q'), messageGroupId: 'g' } } }));
    expect(group.message).toBe('StatefulFunctions Test/App: egresses["shop/out"].messageGroupId is "g": message groups exist only on FIFO queues: remove it or use a FIFO queue');
  });
});
