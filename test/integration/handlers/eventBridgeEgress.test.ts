import { randomUUID } from 'node:crypto';
import { CreateEventBusCommand, DeleteEventBusCommand, DeleteRuleCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { type Effects, type EgressRecord, NO_EFFECTS } from '../../../runtime-lambda/core/Effects';
import { OutboxRelay } from '../../../runtime-lambda/aws/OutboxRelay';
import { textValue } from '../../helpers/factories';
import { drainQueue } from '../../support/drainQueue';
import { awsClientConfig } from '../../support/awsClientConfig';

/** An event as EventBridge delivers it to an SQS target. */
interface DeliveredEvent {
  readonly source: string;
  readonly 'detail-type': string;
  readonly detail: { id: string; type: string; encoding: string; value: unknown };
}

describe('OutboxRelay: EventBridge egress (moto: a bus, a rule, an SQS target)', () => {
  const eventBridge = new EventBridgeClient(awsClientConfig());
  const sqs = new SQSClient(awsClientConfig());
  const kinesis = new KinesisClient({ ...awsClientConfig(), requestHandler: new NodeHttpHandler() });
  const suffix = randomUUID().slice(0, 8);
  const bus = `orders-${suffix}`;
  const rule = `all-${suffix}`;
  let queueUrl: string;
  let dlqUrl: string;

  beforeAll(async () => {
    await eventBridge.send(new CreateEventBusCommand({ Name: bus }));
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `events-${suffix}` }))).QueueUrl!;
    dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `events-dlq-${suffix}` }))).QueueUrl!;
    const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    await eventBridge.send(new PutRuleCommand({ Name: rule, EventBusName: bus, EventPattern: JSON.stringify({ source: [{ prefix: '' }] }) }));
    await eventBridge.send(new PutTargetsCommand({ Rule: rule, EventBusName: bus, Targets: [{ Id: 'queue', Arn: queueArn }] }));
  });
  afterAll(async () => {
    await eventBridge.send(new RemoveTargetsCommand({ Rule: rule, EventBusName: bus, Ids: ['queue'] })).catch(() => {});
    await eventBridge.send(new DeleteRuleCommand({ Name: rule, EventBusName: bus })).catch(() => {});
    await eventBridge.send(new DeleteEventBusCommand({ Name: bus })).catch(() => {});
    await Promise.all([queueUrl, dlqUrl].map((QueueUrl) => sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => {})));
    eventBridge.destroy();
    sqs.destroy();
    kinesis.destroy();
  });

  const relayTo = (egress: ConstructorParameters<typeof OutboxRelay>[0]['egress']) =>
    new OutboxRelay({ kinesis, messageStream: `unused-${suffix}`, sqs, eventBridge, egress, deadLetterQueueUrl: dlqUrl, sleep: async () => undefined });
  const item = (egress: EgressRecord[]): Effects => ({ ...NO_EFFECTS, egress });
  const delivered = async () => (await drainQueue(sqs, queueUrl)).map((m) => JSON.parse(m.body) as DeliveredEvent);

  it('puts one event per record, its id, type and value in the detail (JSON embedded, text as a string, bytes as base64)', async () => {
    // Prepare
    const relay = relayTo({ 'shop/events': { eventBus: bus } });
    const records: EgressRecord[] = [
      { id: 'shop/cart/c1.1.0', egress: 'shop/events', argument: { typename: 'shop/OrderPlaced', value: new TextEncoder().encode('{"order":"o-1","amount":12345678901234567890}') } },
      { id: 'shop/cart/c1.1.1', egress: 'shop/events', argument: textValue('plain words') },
      { id: 'shop/cart/c1.1.2', egress: 'shop/events', argument: { typename: 'shop/Blob', value: new Uint8Array([0xff, 0x00, 0x01]) } },
    ];

    // Act
    const outcome = await relay.relay([item(records)]);
    const events = await delivered();

    // Assess
    expect(outcome).toEqual({ firstIncomplete: undefined, errors: [] });
    expect(events.map((e) => [e.source, e['detail-type'], e.detail])).toEqual([
      ['shop/events', 'shop/OrderPlaced', { id: 'shop/cart/c1.1.0', type: 'shop/OrderPlaced', encoding: 'json', value: { order: 'o-1', amount: 12345678901234567890 } }],
      ['shop/events', 'test/text', { id: 'shop/cart/c1.1.1', type: 'test/text', encoding: 'utf8', value: 'plain words' }],
      ['shop/events', 'shop/Blob', { id: 'shop/cart/c1.1.2', type: 'shop/Blob', encoding: 'base64', value: '/wAB' }],
    ]);
  });

  it('puts 23 records in calls of at most 10, in order, with the configured source and detail type', async () => {
    // Prepare
    const relay = relayTo({ 'shop/events': { eventBus: bus, source: 'shop', detailType: 'CartChanged' } });
    const calls: number[] = [];
    eventBridge.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Entries?: unknown[] };
        if (input.Entries) calls.push(input.Entries.length);
        return next(args);
      },
      { step: 'initialize', name: `count-${suffix}` },
    );
    const records = Array.from({ length: 23 }, (_, i): EgressRecord => ({ id: `r${i}`, egress: 'shop/events', argument: textValue(`n${i}`) }));

    // Act
    const outcome = await relay.relay([item(records)]);
    eventBridge.middlewareStack.remove(`count-${suffix}`);
    const events = await delivered();

    // Assess
    expect(outcome.errors).toEqual([]);
    expect(calls).toEqual([10, 10, 3]);
    expect(events.map((e) => e.detail.id)).toEqual(records.map((r) => r.id));
    expect(new Set(events.map((e) => `${e.source} ${e['detail-type']}`))).toEqual(new Set(['shop CartChanged']));
  });

  it('dead-letters a record too large for an event, and those of a bus that does not exist, and moves on', async () => {
    // Prepare
    const relay = relayTo({ 'shop/events': { eventBus: bus }, 'shop/lost': { eventBus: `missing-${suffix}` } });
    const records: EgressRecord[] = [
      { id: 'big', egress: 'shop/events', argument: textValue('x'.repeat(256 * 1024)) },
      { id: 'fits', egress: 'shop/events', argument: textValue('small') },
      { id: 'lost', egress: 'shop/lost', argument: textValue('nowhere') },
    ];

    // Act
    const outcome = await relay.relay([item(records)]);
    const events = await delivered();
    const dead = (await drainQueue(sqs, dlqUrl)).map((m) => JSON.parse(m.body) as { id: string; reason: string });

    // Assess
    expect(outcome.errors).toEqual([]);
    expect(events.map((e) => e.detail.id)).toEqual(['fits']);
    expect(dead.map((d) => d.id).sort()).toEqual(['big', 'lost']);
    expect(dead.find((d) => d.id === 'big')!.reason).toMatch(/^egress "shop\/events" cannot put it on EventBridge: its event is 262\d{3} bytes, over the 262144 an event may have$/);
    // moto refuses the call; EventBridge may refuse the entry instead: both are for good.
    expect(dead.find((d) => d.id === 'lost')!.reason).toMatch(new RegExp(`^egress "shop/lost" refused it for good: (EventBridge rejected an event for bus missing-${suffix}: .+|PutEvents to bus missing-${suffix}: ResourceNotFoundException: Event bus missing-${suffix} does not exist\\.)$`));
  });

  it('dead-letters only the events EventBridge refuses one by one; the others of the call go out', async () => {
    // Prepare: the request of record "spoilt" reaches moto with a detail that is not JSON, which it refuses (MalformedDetail).
    const relay = relayTo({ 'shop/events': { eventBus: bus } });
    eventBridge.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Entries?: { Detail?: string }[] };
        for (const entry of input.Entries ?? []) if (entry.Detail?.includes('"spoilt"')) entry.Detail = 'not json';
        return next(args);
      },
      { step: 'initialize', name: `spoil-${suffix}` },
    );
    const records = ['before', 'spoilt', 'after'].map((id): EgressRecord => ({ id, egress: 'shop/events', argument: textValue(id) }));

    // Act
    const outcome = await relay.relay([item(records)]);
    eventBridge.middlewareStack.remove(`spoil-${suffix}`);
    const events = await delivered();
    const dead = (await drainQueue(sqs, dlqUrl)).map((m) => JSON.parse(m.body) as { id: string; reason: string });

    // Assess
    expect(outcome.errors).toEqual([]);
    expect(events.map((e) => e.detail.id)).toEqual(['before', 'after']);
    expect(dead).toEqual([expect.objectContaining({ id: 'spoilt', reason: 'egress "shop/events" refused it for good: EventBridge rejected its event: MalformedDetail: Detail is malformed.' })]);
  });
});
