import { DeleteItemCommand, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { RetryableError, describeError } from '../core/errors';
import { INBOX_ATTR, fencePartitionOf } from './commitItems';

/** The fence one commit with egress set: its sender and its key among the sender's fences. */
export interface EgressFenceKey {
  /** The committing address, `namespace/type/id`. */
  readonly sender: string;
  /** Sorts as the sender's commits do (its position, zero-padded). */
  readonly key: string;
}

/**
 * Keeps one address's egress in commit order however many relays run at once: a commit
 * with egress records writes a fence in its transaction; the relay publishes the egress of
 * a commit only when no earlier fence of its sender is left, and lifts the commit's fence
 * once its egress is out. Needed because DynamoDB Streams keep order per item only at a
 * parallelization factor above 1, and every commit is its own outbox item.
 */
export interface EgressFence {
  /** Whether an earlier commit of the same sender has egress not yet published. */
  earlierPending(fence: EgressFenceKey): Promise<boolean>;
  /** Lifts the fence of a commit whose egress is published. Idempotent. */
  release(fence: EgressFenceKey): Promise<void>;
}

/**
 * The {@link EgressFence} on the inbox table, where `DynamoStateStore` writes the fences
 * (partition `#egress <address>`, sort key the commit's position): a strongly consistent
 * `Query` for an earlier one, a `DeleteItem` to lift one.
 *
 * @example
 * const fence = new DynamoEgressFence({ client: new DynamoDBClient({}), inboxTableName: 'statefun-inbox' });
 */
export class DynamoEgressFence implements EgressFence {
  constructor(private readonly options: { readonly client: DynamoDBClient; readonly inboxTableName: string }) {}

  async earlierPending(fence: EgressFenceKey): Promise<boolean> {
    try {
      const out = await this.options.client.send(
        new QueryCommand({
          TableName: this.options.inboxTableName,
          KeyConditionExpression: '#address = :partition AND #key < :key',
          ExpressionAttributeNames: { '#address': INBOX_ATTR.address, '#key': INBOX_ATTR.key },
          ExpressionAttributeValues: { ':partition': { S: fencePartitionOf(fence.sender) }, ':key': { S: fence.key } },
          ConsistentRead: true,
          Limit: 1,
        }),
      );
      return (out.Items ?? []).length > 0;
    } catch (error) {
      throw new RetryableError(`reading the egress fences of ${fence.sender} in ${this.options.inboxTableName}: ${describeError(error)}`, { cause: error, code: 'EGRESS_FENCE' });
    }
  }

  async release(fence: EgressFenceKey): Promise<void> {
    try {
      await this.options.client.send(
        new DeleteItemCommand({
          TableName: this.options.inboxTableName,
          Key: { [INBOX_ATTR.address]: { S: fencePartitionOf(fence.sender) }, [INBOX_ATTR.key]: { S: fence.key } },
        }),
      );
    } catch (error) {
      throw new RetryableError(`lifting the egress fence ${fence.key} of ${fence.sender} in ${this.options.inboxTableName}: ${describeError(error)}`, { cause: error, code: 'EGRESS_FENCE' });
    }
  }
}
