import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';

/** The tables {@link createTables} makes. */
export interface TableNames {
  readonly tableName: string;
  readonly outboxTableName: string;
  readonly inboxTableName: string;
}

/**
 * Creates the state, outbox and inbox tables of {@link DynamoStateStore} (on-demand
 * capacity) and waits until they are active; a table that exists already is left as it is. For tests and
 * the local dev path: production tables come from the CDK construct.
 *
 * - state: partition key `address` (S).
 * - outbox: partition key `address` (S), sort key `version` (N), stream NEW_IMAGE for the relay.
 * - inbox: partition key `address` (S, the receiver), sort key `key` (S).
 *
 * @example
 * await createTables(new DynamoDBClient({ endpoint: 'http://127.0.0.1:8000' }), {
 *   tableName: 'statefun-state',
 *   outboxTableName: 'statefun-outbox',
 *   inboxTableName: 'statefun-inbox',
 * });
 */
export async function createTables(client: DynamoDBClient, names: TableNames): Promise<void> {
  await Promise.all([
    create(
      client,
      new CreateTableCommand({
        TableName: names.tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'address', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'address', KeyType: 'HASH' }],
      }),
    ),
    create(
      client,
      new CreateTableCommand({
        TableName: names.outboxTableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'address', AttributeType: 'S' },
          { AttributeName: 'version', AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: 'address', KeyType: 'HASH' },
          { AttributeName: 'version', KeyType: 'RANGE' },
        ],
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      }),
    ),
    create(
      client,
      new CreateTableCommand({
        TableName: names.inboxTableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'address', AttributeType: 'S' },
          { AttributeName: 'key', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'address', KeyType: 'HASH' },
          { AttributeName: 'key', KeyType: 'RANGE' },
        ],
      }),
    ),
  ]);
  await Promise.all(
    [names.tableName, names.outboxTableName, names.inboxTableName].map((TableName) =>
      waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1, maxDelay: 5 }, { TableName }),
    ),
  );
}

async function create(client: DynamoDBClient, command: CreateTableCommand): Promise<void> {
  try {
    await client.send(command);
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}
