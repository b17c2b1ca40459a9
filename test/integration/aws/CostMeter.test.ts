import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Address } from '../../../runtime-lambda/core/Address';
import { NO_EFFECTS } from '../../../runtime-lambda/core/Effects';
import { CostMeter, US_EAST_1_PRICES } from '../../../runtime-lambda/aws/CostMeter';
import { createTables } from '../../../runtime-lambda/aws/createTables';
import { DynamoStateStore } from '../../../runtime-lambda/aws/DynamoStateStore';
import { dynamoClientConfig } from '../../support/awsClientConfig';
import { commitOf, richEffects, textValue } from '../../helpers/factories';
import { emptyState } from '../../../runtime-lambda/core/AddressState';

describe('Class: CostMeter (on DynamoDB Local)', () => {
  const client = new DynamoDBClient(dynamoClientConfig());
  const meter = new CostMeter();
  meter.attach(client);
  const suffix = randomUUID().slice(0, 8);
  const store = new DynamoStateStore({ tableName: `cost-state-${suffix}`, outboxTableName: `cost-outbox-${suffix}`, inboxTableName: `cost-inbox-${suffix}`, client });

  beforeAll(async () => {
    await createTables(client, { tableName: `cost-state-${suffix}`, outboxTableName: `cost-outbox-${suffix}`, inboxTableName: `cost-inbox-${suffix}` });
  });
  afterAll(() => client.destroy());

  function stateWithBytes(address: Address, bytes: number) {
    const state = emptyState(address);
    return { ...state, version: 1, epochMs: 1, values: new Map([['blob', { typename: 'test/text', value: new Uint8Array(bytes), touchedAtMs: 1 }]]) };
  }

  it('bills a commit without effects as one conditional put: 1 write unit per KB', async () => {
    // Prepare
    const before = { ...meter.units };
    const address = Address.of('cost/fn', `put-${suffix}`);

    // Act
    await store.commit(commitOf(stateWithBytes(address, 500), 0, NO_EFFECTS));

    // Assess
    expect(meter.units.dynamoWriteUnits - before.dynamoWriteUnits).toBe(1);
    expect(meter.calls.get('DynamoDB.PutItem')).toBeGreaterThanOrEqual(1);
  });

  it('bills a commit with egress as a transaction of three items (state, outbox, egress fence): 2 write units per KB per item', async () => {
    // Prepare
    const before = { ...meter.units };
    const address = Address.of('cost/fn', `tx-${suffix}`);

    // Act
    await store.commit(commitOf(stateWithBytes(address, 500), 0, { ...NO_EFFECTS, egress: [{ id: 'x.e0', egress: 'cost/out', argument: textValue('hi') }] }));

    // Assess
    expect(meter.units.dynamoWriteUnits - before.dynamoWriteUnits).toBe(6);
    expect(meter.calls.get('DynamoDB.TransactWriteItems')).toBe(1);
  });

  it('bills an eventually consistent read of a small item as half a read unit', async () => {
    // Prepare
    const address = Address.of('cost/fn', `read-${suffix}`);
    await store.commit(commitOf(stateWithBytes(address, 100), 0, richEffects(address)));
    const before = { ...meter.units };

    // Act
    await store.load([address]);

    // Assess
    expect(meter.units.dynamoReadUnits - before.dynamoReadUnits).toBe(0.5);
  });

  it('prices units at the us-east-1 table', () => {
    // Prepare
    const fresh = new CostMeter();
    fresh.units.dynamoWriteUnits = 1e6;
    fresh.units.dynamoReadUnits = 2e6;
    fresh.recordLambdaInvocation(999.2, 1024); // billed as 1 s at 1 GB

    // Act
    const dollars = fresh.dollars();

    // Assess
    expect(dollars).toBeCloseTo(0.625 + 0.25 + US_EAST_1_PRICES.lambdaRequest + US_EAST_1_PRICES.lambdaGbSecond, 10);
    expect(fresh.breakdown()[0]).toEqual(['DynamoDB writes', 0.625]);
  });
});
