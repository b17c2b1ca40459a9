import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  type StreamSpecification,
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
    create(client, keyedByAddress(names.tableName)),
    create(client, keyedByAddress(names.outboxTableName, { name: 'version', type: 'N' }, { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' })),
    create(client, keyedByAddress(names.inboxTableName, { name: 'key', type: 'S' })),
  ]);
  await Promise.all(
    [names.tableName, names.outboxTableName, names.inboxTableName].map((TableName) =>
      waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1, maxDelay: 5 }, { TableName }),
    ),
  );
}

/** An on-demand table with partition key `address` (S) and, if given, a sort key and a stream. */
function keyedByAddress(
  tableName: string,
  sortKey?: { readonly name: string; readonly type: 'S' | 'N' },
  stream?: StreamSpecification,
): CreateTableCommand {
  return new CreateTableCommand({
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'address', AttributeType: 'S' }, ...(sortKey ? [{ AttributeName: sortKey.name, AttributeType: sortKey.type }] : [])],
    KeySchema: [{ AttributeName: 'address', KeyType: 'HASH' }, ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : [])],
    ...(stream ? { StreamSpecification: stream } : {}),
  });
}

async function create(client: DynamoDBClient, command: CreateTableCommand): Promise<void> {
  try {
    await client.send(command);
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}
