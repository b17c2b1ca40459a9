import { randomUUID } from 'node:crypto';
import { type Admin, Consumer, type Message, stringDeserializer } from '@platformatic/kafka';
import { kafkaEgressMessage } from 'apache-flink-statefun';
import type { EgressRecord } from '../../runtime-lambda/core/Effects';

/** A record read back by {@link readTopic}: key and headers as text, the value's bytes. */
export type ReadRecord = Message<string, Buffer, string, string>;

/**
 * The first `count` records of `topic`, from the earliest offset, read by a fresh consumer
 * group; fewer when `timeoutMs` passes first (the assertion on them then says what is missing).
 *
 * @example
 * const read = await readTopic(kafkaBootstrap(), 'greetings', 6);
 */
export async function readTopic(bootstrap: string, topic: string, count: number, timeoutMs = 20_000): Promise<ReadRecord[]> {
  const consumer = new Consumer<string, Buffer, string, string>({
    groupId: `reader-${randomUUID()}`,
    clientId: 'test-reader',
    bootstrapBrokers: [bootstrap],
    deserializers: { key: stringDeserializer, headerKey: stringDeserializer, headerValue: stringDeserializer },
  });
  const out: ReadRecord[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 200 });
    const deadline = setTimeout(() => void stream.close(), timeoutMs);
    try {
      if (count > 0) {
        for await (const message of stream) {
          out.push(message);
          if (out.length >= count) break;
        }
      }
    } finally {
      clearTimeout(deadline);
      await stream.close();
    }
  } finally {
    await consumer.close(true);
  }
  return out;
}

/** `group`'s committed offset for each partition of `topic`, -1 where it has none. */
export async function committedOffsets(admin: Admin, group: string, topic: string): Promise<number[]> {
  const [listed] = await admin.listConsumerGroupOffsets({ groups: [group] });
  const partitions = listed?.topics.find((t) => t.name === topic)?.partitions ?? [];
  const { partitionsCount } = (await admin.metadata({ topics: [topic] })).topics.get(topic)!;
  return Array.from({ length: partitionsCount }, (_, p) => Number(partitions.find((x) => x.partitionIndex === p)?.committedOffset ?? -1n));
}

/**
 * An egress record holding a `KafkaProducerRecord` as StateFun's official JavaScript SDK
 * builds it (`kafkaEgressMessage`), for the egress `example/greets`.
 */
export function officialKafkaRecord(id: string, topic: string, key: string, value: string): EgressRecord {
  const built = kafkaEgressMessage({ typename: 'example/greets', topic, key, value });
  return { id, egress: 'example/greets', argument: { typename: built.typedValue.getTypename(), value: built.typedValue.getValue_asU8() } };
}
