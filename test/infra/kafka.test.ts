import * as fs from 'node:fs';
import * as path from 'node:path';
import { Fn, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { MskExampleStack } from '../../infra/lib/MskExampleStack';
import { StatefulFunctions, type StatefulFunctionsProps } from '../../infra/lib/StatefulFunctions';
import { parseKafkaIngresses } from '../../runtime-lambda/aws/envConfig';
import { parseEgresses } from '../../runtime-lambda/handlers/relay';
import { TEST_ENV, cfn, policyStatements, propsError, roleLogicalId, testApp, testStack } from './helpers';

const CLUSTER_ARN = 'arn:aws:kafka:us-east-1:123456789012:cluster/shop/0b1c2d3e-aaaa-bbbb-cccc-123456789abc-2';
const TOPIC_ARN = (topic: string) => `arn:aws:kafka:us-east-1:123456789012:topic/shop/0b1c2d3e-aaaa-bbbb-cccc-123456789abc-2/${topic}`;
const GROUP_ARN = (group: string) => `arn:aws:kafka:us-east-1:123456789012:group/shop/0b1c2d3e-aaaa-bbbb-cccc-123456789abc-2/${group}`;
const HTTP = { remoteFunctions: [{ kind: 'http' as const, functionType: 'shop/*', url: 'https://functions.example.com/statefun' }] };

/** A policy's statements as `action resource` pairs (CDK merges statements that share resources or actions). */
function grants(statements: unknown[]): string[] {
  return statements.flatMap((statement) => {
    const { Action, Resource } = statement as { Action: string | string[]; Resource: unknown };
    const resources = Array.isArray(Resource) ? Resource : [Resource];
    return [Action].flat().flatMap((action) => resources.map((resource) => `${action} ${typeof resource === 'string' ? resource : JSON.stringify(resource)}`));
  });
}

/** The env of a construct's Lambda, its tokens resolved. */
function envOf(template: Template, stack: Stack, fn: lambda.Function): Record<string, unknown> {
  const resource = template.findResources('AWS::Lambda::Function')[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)] as { Properties: { Environment: { Variables: Record<string, unknown> } } };
  return resource.Properties.Environment.Variables;
}

/** A resolved env value as the Lambda sees it: JSON with tokens turned into placeholders. */
function asString(value: unknown): string {
  if (typeof value === 'string') return value;
  // {"Fn::Join": ["", [...parts]]}: refs become recognisable placeholders.
  const parts = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return parts.map((part) => (typeof part === 'string' ? part : `<${JSON.stringify(part).replace(/"/g, "'")}>`)).join('');
}

describe('Construct: StatefulFunctions with an Amazon MSK ingress', () => {
  const stack = testStack();
  const app = new StatefulFunctions(stack, 'App', {
    ...HTTP,
    ingresses: [
      {
        kind: 'msk',
        clusterArn: CLUSTER_ARN,
        topics: [
          { topic: 'orders', functionType: 'shop/cart', valueType: 'shop/Order' },
          { topic: 'clicks', functionType: ['shop/session', 'shop/audit'] },
        ],
        consumerGroupId: 'shop',
        batchSize: 500,
      },
    ],
  });
  const template = Template.fromStack(stack);

  test('one mapping per topic on the cluster, IAM (no access configuration), no retry limit or destination', () => {
    for (const topic of ['orders', 'clicks']) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: CLUSTER_ARN,
        Topics: [topic],
        AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: `shop-${topic}` },
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 500,
        FunctionName: cfn(stack, app.dispatcher.functionName),
        SourceAccessConfigurations: Match.absent(),
        MaximumRetryAttempts: Match.absent(),
        MaximumRecordAgeInSeconds: Match.absent(),
        DestinationConfig: Match.absent(),
        BisectBatchOnFunctionError: Match.absent(),
      });
    }
    expect(Object.keys(template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { EventSourceArn: CLUSTER_ARN } }))).toHaveLength(2);
  });

  test("the dispatcher's role may read these topics in these groups of this cluster, nothing wider", () => {
    const granted = grants(policyStatements(template, stack, roleLogicalId(stack, app.dispatcher.role)));
    expect(granted.filter((grant) => grant.startsWith('kafka')).sort()).toEqual(
      [
        `kafka:DescribeClusterV2 ${CLUSTER_ARN}`,
        `kafka:GetBootstrapBrokers ${CLUSTER_ARN}`,
        `kafka-cluster:Connect ${CLUSTER_ARN}`,
        `kafka-cluster:DescribeClusterDynamicConfiguration ${CLUSTER_ARN}`,
        ...['orders', 'clicks'].flatMap((topic) => [`kafka-cluster:DescribeTopic ${TOPIC_ARN(topic)}`, `kafka-cluster:ReadData ${TOPIC_ARN(topic)}`]),
        ...['shop-orders', 'shop-clicks'].flatMap((group) => [`kafka-cluster:DescribeGroup ${GROUP_ARN(group)}`, `kafka-cluster:AlterGroup ${GROUP_ARN(group)}`]),
      ].sort(),
    );
    // The mapping's network interfaces in the cluster's subnets.
    for (const action of ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeVpcs', 'ec2:DeleteNetworkInterface', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups']) expect(granted).toContain(`${action} *`);
    // No managed policy (AWSLambdaMSKExecutionRole grants kafka:* reads and more on "*").
    const role = template.findResources('AWS::IAM::Role')[roleLogicalId(stack, app.dispatcher.role)] as { Properties: { ManagedPolicyArns?: unknown } };
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test("STATEFUN_KAFKA_INGRESSES is what the dispatcher's own parser reads, topic by topic", () => {
    const env = envOf(template, stack, app.dispatcher);
    expect(parseKafkaIngresses({ STATEFUN_KAFKA_INGRESSES: asString(env.STATEFUN_KAFKA_INGRESSES) })).toEqual({
      orders: { functionType: 'shop/cart', valueType: 'shop/Order' },
      clicks: { functionType: ['shop/session', 'shop/audit'] },
    });
    expect(env.STATEFUN_INGRESSES).toBeUndefined();
  });
});

describe('Construct: StatefulFunctions with other Kafka ingresses', () => {
  test('MSK with SASL/SCRAM: the secret as SASL_SCRAM_512_AUTH, GetSecretValue on it and decryption by its key, no kafka-cluster action', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key');
    const secret = new secretsmanager.Secret(stack, 'Scram', { secretName: 'AmazonMSK_shop', encryptionKey: key });
    const app = new StatefulFunctions(stack, 'App', {
      ...HTTP,
      ingresses: [{ kind: 'msk', clusterArn: CLUSTER_ARN, topics: [{ topic: 'orders', functionType: 'shop/cart' }], auth: { mechanism: 'SCRAM-SHA-512', secret } }],
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: CLUSTER_ARN,
      SourceAccessConfigurations: [{ Type: 'SASL_SCRAM_512_AUTH', URI: cfn(stack, secret.secretArn) }],
    });
    const granted = grants(policyStatements(template, stack, roleLogicalId(stack, app.dispatcher.role)));
    expect(granted).toContain(`secretsmanager:GetSecretValue ${JSON.stringify(cfn(stack, secret.secretArn))}`);
    expect(granted).toContain(`kms:Decrypt ${JSON.stringify(cfn(stack, key.keyArn))}`);
    expect(granted.filter((grant) => grant.startsWith('secretsmanager:'))).toHaveLength(1);
    expect(granted.filter((grant) => grant.startsWith('kafka-cluster:'))).toEqual([]);
  });

  test('self-managed in a VPC with SCRAM-SHA-256 and a private CA: subnets, security group, secrets; a default group of the construct', () => {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const securityGroup = new ec2.SecurityGroup(stack, 'KafkaClients', { vpc });
    const secret = new secretsmanager.Secret(stack, 'Creds');
    const ca = new secretsmanager.Secret(stack, 'Ca');
    const app = new StatefulFunctions(stack, 'App', {
      ...HTTP,
      ingresses: [
        {
          kind: 'selfManagedKafka',
          bootstrapServers: ['kafka-1.internal:9096', 'kafka-2.internal:9096'],
          topics: [{ topic: 'orders', functionType: 'shop/cart' }],
          auth: { mechanism: 'SCRAM-SHA-256', secret },
          rootCaCertificate: ca,
          vpc,
          securityGroup,
          startingPosition: lambda.StartingPosition.LATEST,
          provisionedPollers: { minimum: 1, maximum: 3 },
        },
      ],
    });
    const template = Template.fromStack(stack);
    const subnets = vpc.isolatedSubnets.map((s) => ({ Type: 'VPC_SUBNET', URI: { 'Fn::Join': ['', ['subnet:', cfn(stack, s.subnetId)]] } }));
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      SelfManagedEventSource: { Endpoints: { KafkaBootstrapServers: ['kafka-1.internal:9096', 'kafka-2.internal:9096'] } },
      Topics: ['orders'],
      StartingPosition: 'LATEST',
    });
    const mapping = Object.values(template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { Topics: ['orders'] } }))[0] as { Properties: Record<string, unknown> };
    expect(mapping.Properties.SourceAccessConfigurations).toEqual([
      { Type: 'SASL_SCRAM_256_AUTH', URI: cfn(stack, secret.secretArn) },
      { Type: 'SERVER_ROOT_CA_CERTIFICATE', URI: cfn(stack, ca.secretArn) },
      ...subnets,
      { Type: 'VPC_SECURITY_GROUP', URI: { 'Fn::Join': ['', ['security_group:', cfn(stack, securityGroup.securityGroupId)]] } },
    ]);
    expect(mapping.Properties.ProvisionedPollerConfig).toEqual({ MinimumPollers: 1, MaximumPollers: 3 });
    expect((mapping.Properties.SelfManagedKafkaEventSourceConfig as { ConsumerGroupId: string }).ConsumerGroupId).toMatch(/^Test-App-[0-9A-F]{8}-orders$/);
    const granted = grants(policyStatements(template, stack, roleLogicalId(stack, app.dispatcher.role)));
    expect(granted.filter((grant) => grant.startsWith('secretsmanager:')).sort()).toEqual(
      [`secretsmanager:GetSecretValue ${JSON.stringify(cfn(stack, secret.secretArn))}`, `secretsmanager:GetSecretValue ${JSON.stringify(cfn(stack, ca.secretArn))}`].sort(),
    );
    expect(granted.filter((grant) => grant.startsWith('kafka'))).toEqual([]);
  });

  test('an MSK cluster given as a token (CfnCluster.attrArn): topic and group ARNs derived in the template', () => {
    const stack = testStack();
    const clusterArn = new (require('aws-cdk-lib/aws-msk').CfnCluster)(stack, 'Cluster', {
      clusterName: 'shop',
      kafkaVersion: '3.6.0',
      numberOfBrokerNodes: 2,
      brokerNodeGroupInfo: { clientSubnets: ['subnet-1', 'subnet-2'], instanceType: 'kafka.t3.small' },
    }).attrArn as string;
    const app = new StatefulFunctions(stack, 'App', { ...HTTP, ingresses: [{ kind: 'msk', clusterArn, topics: [{ topic: 'orders', functionType: 'shop/cart' }], consumerGroupId: 'g' }] });
    const granted = grants(policyStatements(Template.fromStack(stack), stack, roleLogicalId(stack, app.dispatcher.role)));
    const split = { 'Fn::Split': [':cluster/', cfn(stack, clusterArn)] };
    const arnOf = (kind: string, name: string) => JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::Select': [0, split] }, `:${kind}/`, { 'Fn::Select': [1, split] }, `/${name}`]] });
    expect(granted).toContain(`kafka-cluster:ReadData ${arnOf('topic', 'orders')}`);
    expect(granted).toContain(`kafka-cluster:AlterGroup ${arnOf('group', 'g-orders')}`);
  });
});

describe('Construct: StatefulFunctions with Kafka and EventBridge egresses', () => {
  const stack = testStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const secret = new secretsmanager.Secret(stack, 'Creds');
  const bus = new events.EventBus(stack, 'Orders');
  const app = new StatefulFunctions(stack, 'App', {
    ...HTTP,
    egresses: {
      'shop/greetings': { kind: 'kafka', topics: ['greetings', 'farewells'], bootstrapServers: 'b-1.shop.kafka.us-east-1.amazonaws.com:9098,b-2.shop.kafka.us-east-1.amazonaws.com:9098', mskClusterArn: CLUSTER_ARN, auth: { mechanism: 'AWS_MSK_IAM' } },
      'shop/audit': { kind: 'kafka', topics: ['audit'], bootstrapServers: ['kafka-1.internal:9096'], auth: { mechanism: 'SCRAM-SHA-512', secret } },
      'shop/plain': { kind: 'kafka', topics: ['plain'], bootstrapServers: 'localhost:9092' },
      'shop/events': { kind: 'eventBridge', eventBus: bus, source: 'shop', detailType: 'OrderPlaced' },
    },
    relayVpc: vpc,
  });
  const template = Template.fromStack(stack);

  test("STATEFUN_EGRESSES is what the relay's own parser reads", () => {
    const env = envOf(template, stack, app.relay);
    const parsed = parseEgresses({ STATEFUN_EGRESSES: asString(env.STATEFUN_EGRESSES) });
    expect(parsed['shop/greetings']).toEqual({
      kafkaProducerRecordTopics: ['greetings', 'farewells'],
      kafkaCluster: { bootstrapServers: ['b-1.shop.kafka.us-east-1.amazonaws.com:9098', 'b-2.shop.kafka.us-east-1.amazonaws.com:9098'], tls: true, sasl: { mechanism: 'AWS_MSK_IAM' } },
    });
    expect(parsed['shop/audit']).toEqual({ kafkaProducerRecordTopics: ['audit'], kafkaCluster: { bootstrapServers: ['kafka-1.internal:9096'], tls: true, sasl: { mechanism: 'SCRAM-SHA-512', secretArn: expect.stringContaining('Creds') } } });
    expect(parsed['shop/plain']).toEqual({ kafkaProducerRecordTopics: ['plain'], kafkaCluster: { bootstrapServers: ['localhost:9092'], tls: false } });
    expect(parsed['shop/events']).toEqual({ eventBus: expect.stringContaining('Orders'), source: 'shop', detailType: 'OrderPlaced' });
    // The reconciler publishes as the relay does: the same egresses.
    expect(envOf(template, stack, app.reconciler).STATEFUN_EGRESSES).toEqual(env.STATEFUN_EGRESSES);
  });

  test('the relay and the reconciler may write these topics of this cluster, read that secret, put events on that bus', () => {
    for (const fn of [app.relay, app.reconciler]) {
      const granted = grants(policyStatements(template, stack, roleLogicalId(stack, fn.role)));
      expect(granted.filter((grant) => /^(kafka|secretsmanager|events):/.test(grant) || grant.startsWith('kafka-cluster:')).sort()).toEqual(
        [
          `kafka-cluster:Connect ${CLUSTER_ARN}`,
          `kafka-cluster:WriteDataIdempotently ${CLUSTER_ARN}`,
          ...['greetings', 'farewells'].flatMap((topic) => [`kafka-cluster:DescribeTopic ${TOPIC_ARN(topic)}`, `kafka-cluster:WriteData ${TOPIC_ARN(topic)}`]),
          `secretsmanager:GetSecretValue ${JSON.stringify(cfn(stack, secret.secretArn))}`,
          `events:PutEvents ${JSON.stringify(cfn(stack, bus.eventBusArn))}`,
        ].sort(),
      );
    }
  });

  test('the relay and the reconciler run in relayVpc; the dispatcher does not', () => {
    for (const fn of [app.relay, app.reconciler]) {
      const resource = template.findResources('AWS::Lambda::Function')[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)] as { Properties: { VpcConfig?: { SubnetIds: unknown[] } } };
      expect(resource.Properties.VpcConfig?.SubnetIds).toEqual(vpc.isolatedSubnets.map((s) => cfn(stack, s.subnetId)));
    }
    const dispatcher = template.findResources('AWS::Lambda::Function')[stack.getLogicalId(app.dispatcher.node.defaultChild as lambda.CfnFunction)] as { Properties: { VpcConfig?: unknown } };
    expect(dispatcher.Properties.VpcConfig).toBeUndefined();
  });
});

test('Kafka egress brokers given as a token (e.g. a custom resource\'s output) reach the relay as one string, which it splits at run time', () => {
  const stack = testStack();
  const brokers = Fn.importValue('ShopBootstrapBrokers');
  const app = new StatefulFunctions(stack, 'App', { ...HTTP, egresses: { 'shop/out': { kind: 'kafka', topics: ['out'], bootstrapServers: brokers } } });
  const value = envOf(Template.fromStack(stack), stack, app.relay).STATEFUN_EGRESSES as { 'Fn::Join': [string, unknown[]] };
  expect(value['Fn::Join'][1]).toEqual(['{"shop/out":{"kafkaProducerRecordTopics":["out"],"kafkaCluster":{"bootstrapServers":"', { 'Fn::ImportValue': 'ShopBootstrapBrokers' }, '","tls":false}}}']);
  // What the relay then reads once CloudFormation has put the brokers in.
  const resolved = parseEgresses({ STATEFUN_EGRESSES: `${value['Fn::Join'][1][0]}b-1.shop:9098,b-2.shop:9098${value['Fn::Join'][1][2]}` });
  expect(resolved['shop/out']).toEqual({ kafkaProducerRecordTopics: ['out'], kafkaCluster: { bootstrapServers: ['b-1.shop:9098', 'b-2.shop:9098'], tls: false } });
});

describe('Construct: StatefulFunctions refusing malformed Kafka and EventBridge props', () => {
  const msk = (over: Record<string, unknown> = {}) => ({ kind: 'msk' as const, clusterArn: CLUSTER_ARN, topics: [{ topic: 'orders', functionType: 'shop/cart' }], ...over });
  const cases: [string, (stack: Stack) => StatefulFunctionsProps, string, string][] = [
    ['no topics', () => ({ ...HTTP, ingresses: [msk({ topics: [] })] }), 'ingresses[0].topics', 'list at least one topic'],
    ['a bad topic name', () => ({ ...HTTP, ingresses: [msk({ topics: [{ topic: 'or ders', functionType: 'shop/cart' }] })] }), 'ingresses[0].topics[0].topic', 'a Kafka topic name is 1 to 249 letters'],
    [
      'a topic in two ingresses',
      () => ({ ...HTTP, ingresses: [msk(), msk({ topics: [{ topic: 'orders', functionType: 'shop/audit' }] })] }),
      'ingresses[1].topics[0].topic',
      'this topic is an ingress already: list every target of a topic once',
    ],
    ['a function type pattern', () => ({ ...HTTP, ingresses: [msk({ topics: [{ topic: 'orders', functionType: 'shop/*' }] })] }), 'ingresses[0].topics[0].functionType', 'name function types'],
    ['no function type', () => ({ ...HTTP, ingresses: [msk({ topics: [{ topic: 'orders', functionType: [] }] })] }), 'ingresses[0].topics[0].functionType', 'name at least one function type'],
    ['a batch size of 0', () => ({ ...HTTP, ingresses: [msk({ batchSize: 0 })] }), 'ingresses[0].batchSize', 'give a whole number from 1 to 10000'],
    ['a batch size of 10,001', () => ({ ...HTTP, ingresses: [msk({ batchSize: 10_001 })] }), 'ingresses[0].batchSize', 'give a whole number from 1 to 10000'],
    ['a malformed cluster ARN', () => ({ ...HTTP, ingresses: [msk({ clusterArn: 'arn:aws:kafka:us-east-1:123456789012:topic/shop/x/orders' })] }), 'ingresses[0].clusterArn', 'give the MSK cluster ARN'],
    ['SASL/PLAIN on MSK', (stack) => ({ ...HTTP, ingresses: [msk({ auth: { mechanism: 'PLAIN', secret: new secretsmanager.Secret(stack, 'S') } })] }), 'ingresses[0].auth.mechanism', 'Amazon MSK takes IAM'],
    ['a consumer group with a space', () => ({ ...HTTP, ingresses: [msk({ consumerGroupId: 'my group' })] }), 'ingresses[0].consumerGroupId', 'which Lambda wants of 1 to 200 letters'],
    [
      'a long topic under the default group, past Lambda\'s 200 characters',
      () => ({ ...HTTP, ingresses: [msk({ topics: [{ topic: 't'.repeat(190), functionType: 'shop/cart' }] })] }),
      'ingresses[0].consumerGroupId',
      'set a shorter consumerGroupId',
    ],
    ['a timestamp without AT_TIMESTAMP', () => ({ ...HTTP, ingresses: [msk({ startingPositionTimestamp: 1_700_000_000 })] }), 'ingresses[0].startingPositionTimestamp', 'exactly when startingPosition is AT_TIMESTAMP'],
    ['pollers min above max', () => ({ ...HTTP, ingresses: [msk({ provisionedPollers: { minimum: 5, maximum: 2 } })] }), 'ingresses[0].provisionedPollers', 'minimum must not exceed maximum'],
    ['an unknown ingress kind', () => ({ ...HTTP, ingresses: [{ kind: 'pulsar' } as never] }), 'ingresses[0].kind', 'give "kinesis", "msk" or "selfManagedKafka"'],
    [
      'self-managed brokers over the internet without credentials',
      () => ({ ...HTTP, ingresses: [{ kind: 'selfManagedKafka', bootstrapServers: ['kafka.example.com:9096'], topics: [{ topic: 'orders', functionType: 'shop/cart' }] }] }),
      'ingresses[0].auth',
      'brokers reached over the internet need credentials',
    ],
    [
      'self-managed bootstrap servers without a port',
      (stack) => ({ ...HTTP, ingresses: [{ kind: 'selfManagedKafka', bootstrapServers: ['kafka.example.com'], topics: [{ topic: 'orders', functionType: 'shop/cart' }], auth: { mechanism: 'PLAIN', secret: new secretsmanager.Secret(stack, 'S') } }] }),
      'ingresses[0].bootstrapServers',
      'give "host:port" of one or more brokers',
    ],
    [
      'a self-managed VPC without a security group',
      (stack) => ({
        ...HTTP,
        ingresses: [{ kind: 'selfManagedKafka', bootstrapServers: ['kafka.internal:9092'], topics: [{ topic: 'orders', functionType: 'shop/cart' }], vpc: new ec2.Vpc(stack, 'V', { natGateways: 0 }) }],
      }),
      'ingresses[0].securityGroup',
      'give securityGroup',
    ],
    [
      'IAM on a self-managed cluster',
      () => ({ ...HTTP, ingresses: [{ kind: 'selfManagedKafka', bootstrapServers: ['kafka.internal:9098'], topics: [{ topic: 'orders', functionType: 'shop/cart' }], auth: { mechanism: 'AWS_MSK_IAM' } as never }] }),
      'ingresses[0].auth.mechanism',
      'IAM access control is Amazon MSK\'s',
    ],
    ['a Kafka egress without topics', () => ({ ...HTTP, egresses: { 'shop/out': { kind: 'kafka', topics: [], bootstrapServers: 'k:9092' } } }), 'egresses["shop/out"].topics', 'list the topics its records may name'],
    ['a Kafka egress with a bad topic', () => ({ ...HTTP, egresses: { 'shop/out': { kind: 'kafka', topics: ['a/b'], bootstrapServers: 'k:9092' } } }), 'egresses["shop/out"].topics[0]', 'a Kafka topic name'],
    ['a Kafka egress with bad bootstrap servers', () => ({ ...HTTP, egresses: { 'shop/out': { kind: 'kafka', topics: ['t'], bootstrapServers: 'kafka' } } }), 'egresses["shop/out"].bootstrapServers', 'give "host:port"'],
    ['an IAM Kafka egress without its cluster', () => ({ ...HTTP, egresses: { 'shop/out': { kind: 'kafka', topics: ['t'], bootstrapServers: 'k:9098', auth: { mechanism: 'AWS_MSK_IAM' } } } }), 'egresses["shop/out"].mskClusterArn', 'give its ARN'],
    ['an EventBridge source in aws.', (stack) => ({ ...HTTP, egresses: { 'shop/events': { kind: 'eventBridge', eventBus: new events.EventBus(stack, 'B'), source: 'aws.shop' } } }), 'egresses["shop/events"].source', 'keeps sources starting with "aws."'],
    ['an empty EventBridge detail type', (stack) => ({ ...HTTP, egresses: { 'shop/events': { kind: 'eventBridge', eventBus: new events.EventBus(stack, 'B'), detailType: '' } } }), 'egresses["shop/events"].detailType', 'give 1 to 256 characters'],
    ['relay subnets without relayVpc', () => ({ ...HTTP, relayVpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }), 'relayVpc', 'give the relayVpc as well'],
    ['a dispatcher timeout past 14 minutes with Kafka', () => ({ ...HTTP, ingresses: [msk()], dispatcherTimeout: require('aws-cdk-lib').Duration.minutes(15) }), 'dispatcherTimeout', 'at most 14 minutes'],
  ];

  test.each(cases)('%s', (_what, props, prop, message) => {
    const error = propsError(props);
    expect(error.prop).toBe(prop);
    expect(error.message).toContain(message);
  });
});

describe('cdk-nag with Kafka and EventBridge', () => {
  test('MSK and self-managed ingresses, a dispatcher in a VPC, a Kafka egress with IAM and an EventBridge egress from a relay in a VPC: no unacknowledged finding', () => {
    const app = testApp({ nag: true });
    const stack = new Stack(app, 'Kafka', { env: TEST_ENV });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    Validations.of(vpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: "a test fixture: flow logs are the owner's choice" });
    new StatefulFunctions(stack, 'App', {
      ...HTTP,
      ingresses: [
        { kind: 'msk', clusterArn: CLUSTER_ARN, topics: [{ topic: 'orders', functionType: 'shop/cart' }] },
        { kind: 'selfManagedKafka', bootstrapServers: ['kafka.internal:9092'], topics: [{ topic: 'clicks', functionType: 'shop/session' }], vpc, securityGroup: new ec2.SecurityGroup(stack, 'KafkaClients', { vpc }) },
      ],
      vpc,
      egresses: {
        'shop/greetings': { kind: 'kafka', topics: ['greetings'], bootstrapServers: 'b-1.shop.kafka.us-east-1.amazonaws.com:9098', mskClusterArn: CLUSTER_ARN, auth: { mechanism: 'AWS_MSK_IAM' } },
        'shop/events': { kind: 'eventBridge', eventBus: events.EventBus.fromEventBusName(stack, 'Bus', 'orders') },
      },
      relayVpc: vpc,
    });
    let findings = '';
    try {
      app.synth();
    } catch (error) {
      findings = (error as Error).message;
    }
    expect(findings).toBe('');
  });
});

describe('Stack: MskExampleStack (docs/kafka.md, "On Amazon MSK")', () => {
  test('the mapping on the cluster it creates, the brokers letting the mapping and the relay in on 9098, the relay in the VPC, the env the relay parses', () => {
    // Prepare
    const stack = new MskExampleStack(testApp(), 'MskExample', { env: TEST_ENV, functionsUrl: 'https://functions.example.com/statefun', bootstrapServers: 'b-1.shop.kafka.us-east-1.amazonaws.com:9098,b-2.shop.kafka.us-east-1.amazonaws.com:9098' });
    // Act
    const template = Template.fromStack(stack);
    // Assess
    const clusterArn = cfn(stack, stack.cluster.attrArn);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: clusterArn, Topics: ['orders'], AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: 'shop-orders' } });
    template.hasResourceProperties('AWS::MSK::Cluster', { ClientAuthentication: { Sasl: { Iam: { Enabled: true } } } });
    const brokers = template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('^MSK brokers') } });
    const brokersId = Object.keys(brokers)[0]!;
    const relayId = Object.keys(template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('relay') } }))[0]!;
    for (const source of [brokersId, relayId]) {
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { GroupId: { 'Fn::GetAtt': [brokersId, 'GroupId'] }, SourceSecurityGroupId: { 'Fn::GetAtt': [source, 'GroupId'] }, FromPort: 9098, ToPort: 9098, IpProtocol: 'tcp' });
    }
    const relay = template.findResources('AWS::Lambda::Function')[stack.getLogicalId(stack.app.relay.node.defaultChild as lambda.CfnFunction)] as { Properties: { VpcConfig: { SecurityGroupIds: unknown[] }; Environment: { Variables: Record<string, unknown> } } };
    expect(relay.Properties.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [relayId, 'GroupId'] }]);
    const egresses = parseEgresses({ STATEFUN_EGRESSES: asString(relay.Properties.Environment.Variables.STATEFUN_EGRESSES) });
    expect(egresses['shop/receipts']).toEqual({
      kafkaProducerRecordTopics: ['receipts'],
      kafkaCluster: { bootstrapServers: ['b-1.shop.kafka.us-east-1.amazonaws.com:9098', 'b-2.shop.kafka.us-east-1.amazonaws.com:9098'], tls: true, sasl: { mechanism: 'AWS_MSK_IAM' } },
    });
    expect(egresses['shop/events']).toEqual({ eventBus: expect.any(String), source: 'shop' });
  });

  test("docs/kafka.md shows this stack's code as it is", () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'kafka.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## On Amazon MSK'));
    const listing = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
    const lines = (text: string) => text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
    const code = lines(fs.readFileSync(path.join(__dirname, '..', '..', 'infra', 'lib', 'MskExampleStack.ts'), 'utf8')).join('\n');
    expect(code).toContain(lines(listing).join('\n'));
  });

  test('before the brokers are known: the ingress and the EventBridge egress only', () => {
    const stack = new MskExampleStack(testApp(), 'MskExample', { env: TEST_ENV, functionsUrl: 'https://functions.example.com/statefun' });
    const relay = Template.fromStack(stack).findResources('AWS::Lambda::Function')[stack.getLogicalId(stack.app.relay.node.defaultChild as lambda.CfnFunction)] as { Properties: { Environment: { Variables: Record<string, unknown> } } };
    expect(Object.keys(parseEgresses({ STATEFUN_EGRESSES: asString(relay.Properties.Environment.Variables.STATEFUN_EGRESSES) }))).toEqual(['shop/events']);
  });
});
