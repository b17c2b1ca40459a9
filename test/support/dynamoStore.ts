import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { Address } from '../../runtime-lambda/core/Address';
import type { Effects } from '../../runtime-lambda/core/Effects';
import { createTables } from '../../runtime-lambda/aws/createTables';
import { OUTBOX_ATTR } from '../../runtime-lambda/aws/commitItems';
import { DynamoStateStore } from '../../runtime-lambda/aws/DynamoStateStore';
import { decodeEffects } from '../../runtime-lambda/aws/effectsCodec';
import { dynamoClientConfig } from './awsClientConfig';

/** A {@link DynamoStateStore} on fresh tables of the test DynamoDB, and what tests need around it. */
export interface DynamoStoreFixture {
  readonly store: DynamoStateStore;
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly outboxTableName: string;
  readonly inboxTableName: string;
  /** The SDK commands sent through `client` so far, by name (e.g. `PutItemCommand`). */
  readonly calls: string[];
  /** The decoded effects of every outbox item of `address`, in version order. */
  outboxOf(address: Address): Promise<Effects[]>;
  close(): Promise<void>;
}

/**
 * Creates uniquely named tables on the test DynamoDB and a store on them. The client counts
 * the commands it sends with a tiny middleware (a real client, no mock).
 */
export async function dynamoStoreFixture(): Promise<DynamoStoreFixture> {
  const client = new DynamoDBClient(dynamoClientConfig());
  const calls: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize', name: 'statefunCountCalls' },
  );
  const suffix = randomUUID().slice(0, 8);
  const tableName = `statefun-state-${suffix}`;
  const outboxTableName = `statefun-outbox-${suffix}`;
  const inboxTableName = `statefun-inbox-${suffix}`;
  await createTables(client, { tableName, outboxTableName, inboxTableName });
  const store = new DynamoStateStore({ tableName, outboxTableName, inboxTableName, client });
  return {
    store,
    client,
    tableName,
    outboxTableName,
    inboxTableName,
    calls,
    outboxOf: async (address) => {
      const out = await client.send(
        new QueryCommand({
          TableName: outboxTableName,
          KeyConditionExpression: '#a = :a',
          ExpressionAttributeNames: { '#a': OUTBOX_ATTR.address },
          ExpressionAttributeValues: { ':a': { S: address.key } },
          ConsistentRead: true,
        }),
      );
      return (out.Items ?? []).map((item) => decodeEffects(item[OUTBOX_ATTR.effects]!.B!));
    },
    close: async () => {
      await Promise.all(
        [tableName, outboxTableName].map((TableName) => client.send(new DeleteTableCommand({ TableName })).catch(() => {})),
      );
      client.destroy();
    },
  };
}
