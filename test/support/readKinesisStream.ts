import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import type { KinesisStreamRecord } from '../../runtime-lambda/aws/lambdaEvents';
import { streamArn } from '../helpers/awsEventFactories';

/** Every record on `stream` so far, shard by shard in order, as a dispatcher Lambda would receive it. */
export async function readKinesisStream(kinesis: KinesisClient, stream: string): Promise<KinesisStreamRecord[]> {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  const out: KinesisStreamRecord[] = [];
  for (const shard of shards) {
    let iterator = (await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    for (let page = 0; iterator && page < 20; page++) {
      const got = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      for (const r of got.Records ?? []) {
        out.push({
          eventID: `${shard.ShardId}:${r.SequenceNumber}`,
          eventSourceARN: streamArn(stream),
          kinesis: { partitionKey: r.PartitionKey!, sequenceNumber: r.SequenceNumber!, data: Buffer.from(r.Data!).toString('base64') },
        });
      }
      if ((got.Records ?? []).length === 0) break;
      iterator = got.NextShardIterator;
    }
  }
  return out;
}
