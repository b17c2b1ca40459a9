import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** A message read from a queue: the egress record id (the `statefun-id` attribute, else the SQS id) and the body. */
export interface QueuedMessage {
  readonly id: string;
  readonly body: string;
}

/** Every message of a queue, in receive order (FIFO order for a FIFO queue), deleted as read. */
export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<QueuedMessage[]> {
  const out: QueuedMessage[] = [];
  for (let empty = 0; empty < 2; ) {
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], VisibilityTimeout: 60, WaitTimeSeconds: 0 }));
    const messages = got.Messages ?? [];
    if (messages.length === 0) {
      empty++;
      continue;
    }
    empty = 0;
    for (const m of messages) out.push({ id: m.MessageAttributes?.['statefun-id']?.StringValue ?? m.MessageId!, body: m.Body ?? '' });
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  }
  return out;
}
