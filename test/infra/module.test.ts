import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { StatefulFunctions } from '../../infra/lib/StatefulFunctions';
import { parseKafkaIngresses, parseModuleEndpoints } from '../../runtime-lambda/aws/envConfig';
import { parseEgresses } from '../../runtime-lambda/handlers/relay';
import { parseModule } from '../../runtime-lambda/module/parseModule';
import { TEST_ENV, cfn, policyStatements, propsError, roleLogicalId, testApp, testStack } from './helpers';

/** A StateFun application as its users write it: HTTP functions, a Lambda-served namespace, Kinesis in and out. */
const MODULE = `
kind: io.statefun.endpoints.v2/http
spec:
  functions: example/*
  urlPathTemplate: https://functions.example.com/statefun/{function.name}
  maxNumBatchRequests: 200
  transport:
    type: io.statefun.transports.v1/async
    call: 30s
---
kind: com.statefun-aws.endpoints.v1/lambda
spec:
  functions: scoring/*
  functionName: scoring-{function.name}
  timeouts:
    call: 20s
---
kind: io.statefun.kinesis.v1/ingress
spec:
  id: example/names
  startupPosition:
    type: earliest
  streams:
    - stream: names
      valueType: io.statefun.types/string
      targets:
        - example/person
        - example/audit
    - stream: events
      valueType: example/Event
      targets:
        - example/person
---
kind: io.statefun.kinesis.v1/egress
spec:
  id: example/out
`;

function moduleFile(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'statefun-module-'));
  const file = path.join(dir, 'module.yaml');
  fs.writeFileSync(file, text);
  return file;
}

describe('Construct: StatefulFunctions with a StateFun module.yaml', () => {
  const file = moduleFile(MODULE);
  const stack = testStack();
  const events = new kinesis.Stream(stack, 'Events', { streamName: 'events' });
  const token = new secretsmanager.Secret(stack, 'Token');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const app = new StatefulFunctions(stack, 'App', {
    module: { file, streams: { events }, kinesisEgressStreams: { 'example/out': ['greetings'] } },
    httpHeaders: { authorization: { secret: token, field: 'header' } },
    vpc,
  });
  const template = Template.fromStack(stack);
  const dispatcherEnv = () => {
    const fn = template.toJSON().Resources[stack.getLogicalId(app.dispatcher.node.defaultChild as never)];
    return fn.Properties.Environment.Variables as Record<string, unknown>;
  };

  test('the endpoints reach the dispatcher as the runtime reads them, with {function.name} and the module\'s settings', () => {
    const value = dispatcherEnv().STATEFUN_MODULE_ENDPOINTS as string;
    expect(parseModuleEndpoints({ STATEFUN_MODULE_ENDPOINTS: value })).toEqual(JSON.parse(JSON.stringify(parseModule(MODULE, file).endpoints)));
    expect(JSON.parse(value)).toEqual([
      expect.objectContaining({ kind: 'http', functions: { namespace: 'example' }, urlPathTemplate: 'https://functions.example.com/statefun/{function.name}', maxNumBatchRequests: 200, timeouts: expect.objectContaining({ callMs: 30_000 }) }),
      expect.objectContaining({ kind: 'lambda', functions: { namespace: 'scoring' }, functionNameTemplate: 'scoring-{function.name}', timeouts: expect.objectContaining({ callMs: 20_000 }) }),
    ]);
    expect(dispatcherEnv().STATEFUN_FUNCTIONS).toBeUndefined();
  });

  test('each ingress stream gets a mapping at its startup position and routes to every target; streams not given are created with their names', () => {
    const names = template.findResources('AWS::Kinesis::Stream', { Properties: { Name: 'names' } });
    const greetings = template.findResources('AWS::Kinesis::Stream', { Properties: { Name: 'greetings' } });
    expect(Object.keys(names)).toHaveLength(1);
    expect(Object.keys(greetings)).toHaveLength(1);
    template.resourceCountIs('AWS::Kinesis::Stream', 4); // the message stream, names and greetings created, events given
    const namesId = Object.keys(names)[0]!;
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: { 'Fn::GetAtt': [namesId, 'Arn'] }, StartingPosition: 'TRIM_HORIZON', FunctionResponseTypes: ['ReportBatchItemFailures'] });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: cfn(stack, events.streamArn), StartingPosition: 'TRIM_HORIZON' });
    const ingresses = JSON.stringify(dispatcherEnv().STATEFUN_INGRESSES);
    expect(ingresses).toContain(JSON.stringify(':{"functionType":["example/person","example/audit"],"valueType":"io.statefun.types/string"}').slice(1, -1));
    expect(ingresses).toContain(JSON.stringify(':{"functionType":["example/person"],"valueType":"example/Event"}').slice(1, -1));
    expect(ingresses).toContain(JSON.stringify({ Ref: namesId }));
  });

  test('the relay writes the Kinesis egress records to the listed streams only, and may write nowhere else', () => {
    const relay = template.toJSON().Resources[stack.getLogicalId(app.relay.node.defaultChild as never)];
    const greetingsId = Object.keys(template.findResources('AWS::Kinesis::Stream', { Properties: { Name: 'greetings' } }))[0]!;
    expect(JSON.stringify(relay.Properties.Environment.Variables.STATEFUN_EGRESSES)).toContain(JSON.stringify(`{"example/out":{"kinesisEgressRecordStreams":["`).slice(1, -1));
    expect(JSON.stringify(relay.Properties.Environment.Variables.STATEFUN_EGRESSES)).toContain(JSON.stringify({ Ref: greetingsId }));
    const writes = policyStatements(template, stack, roleLogicalId(stack, app.relay.role)).filter((st) => JSON.stringify(st).includes('kinesis:PutRecords'));
    expect(writes).toEqual(
      expect.arrayContaining([expect.objectContaining({ Resource: expect.arrayContaining([{ 'Fn::GetAtt': [greetingsId, 'Arn'] }]) })]),
    );
  });

  test('the dispatcher: invokes the functions the Lambda template can name, reads the header secret, runs in the VPC', () => {
    const statements = policyStatements(template, stack, roleLogicalId(stack, app.dispatcher.role));
    expect(statements).toEqual(
      expect.arrayContaining([
        { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:scoring-*' },
        expect.objectContaining({ Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: cfn(stack, token.secretArn) }),
        expect.objectContaining({ Action: expect.arrayContaining(['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface']), Resource: '*' }),
      ]),
    );
    expect(JSON.stringify(dispatcherEnv().STATEFUN_HTTP_HEADER_SECRETS)).toContain(JSON.stringify('{"authorization":{"secretArn":"').slice(1, -1));
    expect(JSON.stringify(dispatcherEnv().STATEFUN_HTTP_HEADER_SECRETS)).toContain(JSON.stringify('","field":"header"}}').slice(1, -1));
    const fn = template.toJSON().Resources[stack.getLogicalId(app.dispatcher.node.defaultChild as never)];
    expect(fn.Properties.VpcConfig.SubnetIds).toEqual(vpc.isolatedSubnets.map((subnet) => cfn(stack, subnet.subnetId)));
    // StateFun's call budget fits the dispatcher's 60 s here: no warning.
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('moduleCallTimeoutExceedsInvocation'))).toEqual([]);
  });

  test('cdk-nag finds nothing unacknowledged', () => {
    const nagApp = testApp({ nag: true });
    const nagStack = new Stack(nagApp, 'Module', { env: TEST_ENV });
    // The secret and the VPC are the user's, not the construct's: their own findings are theirs.
    const secret = new secretsmanager.Secret(nagStack, 'Token');
    Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'a test fixture: rotation is the owner\'s choice' });
    const nagVpc = new ec2.Vpc(nagStack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    Validations.of(nagVpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'a test fixture: flow logs are the owner\'s choice' });
    new StatefulFunctions(nagStack, 'App', { module: { file, kinesisEgressStreams: { 'example/out': ['greetings'] } }, httpHeaders: { authorization: { secret } }, vpc: nagVpc });
    let findings = '';
    try {
      nagApp.synth();
    } catch (error) {
      findings = (error as Error).message;
    }
    expect(findings).toBe('');
  });
});

/** StateFun's Kafka showcase, as its users write it: two topics in (one group), one egress out; and a legacy 3.0 egress. */
const KAFKA_MODULE = `
kind: io.statefun.endpoints.v2/http
spec:
  functions: shop/*
  urlPathTemplate: https://functions.example.com/statefun/{function.name}
---
kind: io.statefun.kafka.v1/ingress
spec:
  id: shop/in
  address: kafka-1.internal:9092,kafka-2.internal:9092
  consumerGroupId: shop
  startupPosition:
    type: group-offsets
  autoOffsetResetPosition: earliest
  topics:
    - topic: orders
      valueType: shop/Order
      targets:
        - shop/cart
        - shop/audit
    - topic: clicks
      valueType: io.statefun.types/string
      targets:
        - shop/session
---
kind: io.statefun.kafka.v1/egress
spec:
  id: shop/out
  address: kafka-1.internal:9092
  deliverySemantic:
    type: at-least-once
`;

const LEGACY_KAFKA_EGRESS = `
version: "3.0"
module:
  meta:
    type: remote
  spec:
    endpoints:
      - endpoint:
          meta:
            kind: http
          spec:
            functions: shop/*
            urlPathTemplate: https://functions.example.com/statefun/{function.name}
    egresses:
      - egress:
          meta:
            type: io.statefun.kafka/egress
            id: shop/legacy
          spec:
            address: kafka-broker:9092
            deliverySemantic:
              type: exactly-once
              transactionTimeoutMillis: 100000
`;

const MSK_ARN = 'arn:aws:kafka:us-east-1:123456789012:cluster/shop/0b1c2d3e-aaaa-bbbb-cccc-123456789abc-2';

/** A resolved env value as the Lambda reads it (tokens as placeholders). */
function envString(value: unknown): string {
  if (typeof value === 'string') return value;
  return (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<token>')).join('');
}

describe('Construct: StatefulFunctions with a module.yaml of Kafka ingresses and egresses', () => {
  test('on MSK: one mapping per topic in "<group>-<topic>", IAM grants, and the env both runtimes parse', () => {
    // Prepare
    const stack = testStack();
    // Act
    const app = new StatefulFunctions(stack, 'App', {
      module: { file: moduleFile(KAFKA_MODULE), kafka: { mskClusterArn: MSK_ARN, bootstrapServers: 'b-1.shop.kafka.us-east-1.amazonaws.com:9098', egressTopics: { 'shop/out': ['greetings'] } } },
    });
    // Assess
    const template = Template.fromStack(stack);
    for (const topic of ['orders', 'clicks']) {
      // group-offsets: the group's offsets, else autoOffsetResetPosition (earliest).
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: MSK_ARN, Topics: [topic], AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: `shop-${topic}` }, StartingPosition: 'TRIM_HORIZON' });
    }
    const functions = template.findResources('AWS::Lambda::Function');
    const dispatcherEnv = (functions[stack.getLogicalId(app.dispatcher.node.defaultChild as lambda.CfnFunction)] as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables;
    expect(parseKafkaIngresses({ STATEFUN_KAFKA_INGRESSES: envString(dispatcherEnv.STATEFUN_KAFKA_INGRESSES) })).toEqual({
      orders: { functionType: ['shop/cart', 'shop/audit'], valueType: 'shop/Order' },
      clicks: { functionType: ['shop/session'], valueType: 'io.statefun.types/string' },
    });
    const relayEnv = (functions[stack.getLogicalId(app.relay.node.defaultChild as lambda.CfnFunction)] as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables;
    expect(parseEgresses({ STATEFUN_EGRESSES: envString(relayEnv.STATEFUN_EGRESSES) })).toEqual({
      'shop/out': { kafkaProducerRecordTopics: ['greetings'], kafkaCluster: { bootstrapServers: ['b-1.shop.kafka.us-east-1.amazonaws.com:9098'], tls: true, sasl: { mechanism: 'AWS_MSK_IAM' } } },
    });
    const relayGrants = JSON.stringify(policyStatements(template, stack, roleLogicalId(stack, app.relay.role)));
    expect(relayGrants).toContain('arn:aws:kafka:us-east-1:123456789012:topic/shop/0b1c2d3e-aaaa-bbbb-cccc-123456789abc-2/greetings');
    const dispatcherGrants = JSON.stringify(policyStatements(template, stack, roleLogicalId(stack, app.dispatcher.role)));
    expect(dispatcherGrants).toContain('arn:aws:kafka:us-east-1:123456789012:group/shop/0b1c2d3e-aaaa-bbbb-cccc-123456789abc-2/shop-orders');
  });

  test("self-managed with SCRAM: mappings at the module's address with the secret; the legacy 3.0 egress form too", () => {
    const stack = testStack();
    const secret = new secretsmanager.Secret(stack, 'Scram');
    new StatefulFunctions(stack, 'App', { module: { file: moduleFile(KAFKA_MODULE), kafka: { auth: { mechanism: 'SCRAM-SHA-512', secret }, egressTopics: { 'shop/out': ['greetings'] } } } });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      SelfManagedEventSource: { Endpoints: { KafkaBootstrapServers: ['kafka-1.internal:9092', 'kafka-2.internal:9092'] } },
      Topics: ['orders'],
      SourceAccessConfigurations: [{ Type: 'SASL_SCRAM_512_AUTH', URI: cfn(stack, secret.secretArn) }],
    });

    const legacyStack = testStack();
    const legacy = new StatefulFunctions(legacyStack, 'App', { module: { file: moduleFile(LEGACY_KAFKA_EGRESS), kafka: { auth: { mechanism: 'SCRAM-SHA-512', secret: new secretsmanager.Secret(legacyStack, 'S') }, egressTopics: { 'shop/legacy': ['out'] } } } });
    const relay = Template.fromStack(legacyStack).findResources('AWS::Lambda::Function')[legacyStack.getLogicalId(legacy.relay.node.defaultChild as lambda.CfnFunction)] as { Properties: { Environment: { Variables: Record<string, unknown> } } };
    expect(parseEgresses({ STATEFUN_EGRESSES: envString(relay.Properties.Environment.Variables.STATEFUN_EGRESSES) })['shop/legacy']).toEqual({
      kafkaProducerRecordTopics: ['out'],
      kafkaCluster: { bootstrapServers: ['kafka-broker:9092'], tls: true, sasl: { mechanism: 'SCRAM-SHA-512', secretArn: '<token>' } },
    });
  });

  test.each([
    ['Kafka documents without the kafka option', KAFKA_MODULE, undefined, 'module.kafka', "a module's Kafka address says neither whether the cluster is Amazon MSK nor how to sign in"],
    ['a Kafka egress without its topics', KAFKA_MODULE, { mskClusterArn: MSK_ARN }, 'module.kafka.egressTopics["shop/out"]', 'list the topics the records of egress shop/out may name'],
    ['topics for an egress the module lacks', KAFKA_MODULE, { mskClusterArn: MSK_ARN, egressTopics: { 'shop/out': ['g'], 'shop/other': ['x'] } }, 'module.kafka.egressTopics["shop/other"]', 'the module has no Kafka egress shop/other'],
    [
      'specific offsets',
      KAFKA_MODULE.replace('type: group-offsets', "type: specific-offsets\n    offsets:\n      - orders/0: 42"),
      { mskClusterArn: MSK_ARN, egressTopics: { 'shop/out': ['g'] } },
      'module.file',
      'startupPosition "specific-offsets" has no equivalent in Lambda\'s Kafka mappings',
    ],
    ['self-managed brokers over the internet without credentials', KAFKA_MODULE, { egressTopics: { 'shop/out': ['g'] } }, 'module.kafka.auth', 'brokers reached over the internet need credentials'],
  ])('refuses %s, naming the fix', (_what, text, kafka, prop, message) => {
    const error = propsError(() => ({ module: { file: moduleFile(text), ...(kafka ? { kafka } : {}) } }));
    expect(error.prop).toBe(prop);
    expect(error.message).toContain(message);
  });
});

describe('Construct: StatefulFunctions with a module.yaml it cannot deploy', () => {
  test.each([
    ['a module that does not parse', 'kind: io.statefun.endpoints.v2/http\nspec:\n  functions: example/*\n', undefined, 'spec.urlPathTemplate'],
    ['a playground ingress', 'kind: io.statefun.playground.v1/ingress\nspec:\n  port: 8090\n', undefined, 'the playground ingress and egress run under `statefun dev` only'],
    ['a Kinesis egress without its streams', 'kind: io.statefun.kinesis.v1/egress\nspec:\n  id: example/out\n', undefined, 'list the streams the records of egress example/out may name'],
    ['streams for an egress the module lacks', 'kind: io.statefun.endpoints.v2/http\nspec:\n  functions: example/*\n  urlPathTemplate: https://f.example.com/{function.name}\n', { 'example/other': ['s'] }, 'the module has no Kinesis egress example/other'],
    ['an http:// endpoint', 'kind: io.statefun.endpoints.v2/http\nspec:\n  functions: example/*\n  urlPathTemplate: http://f.internal/{function.name}\n', undefined, 'in the clear over http://'],
  ])('refuses %s at synth, naming it', (_what, text, kinesisEgressStreams, message) => {
    const error = propsError(() => ({ module: { file: moduleFile(text), ...(kinesisEgressStreams ? { kinesisEgressStreams } : {}) } }));
    expect(error.message).toContain(message);
  });

  test('refuses a module pattern that remoteFunctions serves too', () => {
    const error = propsError(() => ({
      module: { file: moduleFile('kind: io.statefun.endpoints.v2/http\nspec:\n  functions: shop/*\n  urlPathTemplate: https://f.example.com/{function.name}\n') },
      remoteFunctions: [{ kind: 'http', functionType: 'shop/*', url: 'https://other.example.com/statefun' }],
    }));
    expect(error.message).toContain('"shop/*": remoteFunctions serves this pattern already: keep one of the two');
  });

  test('warns when StateFun\'s call budget (2 minutes by default) outlasts the dispatcher invocation', () => {
    const stack = testStack();
    new StatefulFunctions(stack, 'App', { module: { file: moduleFile('kind: io.statefun.endpoints.v2/http\nspec:\n  functions: shop/*\n  urlPathTemplate: https://f.example.com/{function.name}\n') } });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('a call may take 120 s \\(timeouts.call\\)'));
    expect(warnings).toHaveLength(1);
  });
});
