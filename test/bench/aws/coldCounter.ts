import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { Address } from '../../../runtime-lambda/core/Address';
import type { LocalAwsEndpoints } from '../../../runtime-lambda/aws/LocalAws';
import { StatefulFunctions, Types, defineFunction } from '../../../runtime-lambda/sdk';
import { startMeteredApp } from './harness';
import type { WorkloadResult } from './report';

const FN_TYPE = 'bench/cold-counter';
const PAYLOAD_TYPE = 'bench.types/payload';
const PAYLOAD_BYTES = 1024;
const INGRESS = 'events';

/**
 * The cold-address counter: counts the messages it gets and checks each carries its 1 KB
 * payload. Its state is one int, so each commit is a small state item and no effects.
 */
export const coldCounter = defineFunction({
  typename: FN_TYPE,
  state: { count: Types.int },
  handle(ctx, message) {
    if (message.typename !== PAYLOAD_TYPE || message.rawValue?.byteLength !== PAYLOAD_BYTES) {
      throw new TypeError(`${ctx.self}: expected a ${PAYLOAD_BYTES}-byte ${PAYLOAD_TYPE}, got ${message.rawValue?.byteLength ?? 'no'} bytes of ${message.typename}`);
    }
    ctx.storage.count = (ctx.storage.count ?? 0) + 1;
  },
});

/**
 * `messages` 1 KB messages, each to a different address that has no state yet, put by a
 * producer on the app's ingress stream with PutRecords (500 records a call, partition key =
 * the address id: how producers put messages in), then processed by the real dispatcher
 * (embedded function) under the poller. Checks every address counted exactly one message.
 */
export async function runColdCounter(endpoints: LocalAwsEndpoints, messages: number): Promise<WorkloadResult> {
  const functions = new StatefulFunctions().withFunction(coldCounter).resolver();
  const app = await startMeteredApp(endpoints, {
    name: 'cold',
    functions,
    ingresses: { [INGRESS]: { functionType: FN_TYPE, valueType: PAYLOAD_TYPE } },
    ingressShards: 2,
  });
  try {
    const began = Date.now();
    const mark = app.readMark();
    const ids = Array.from({ length: messages }, (_, i) => `a${i}-${Math.random().toString(36).slice(2, 8)}`);
    const payload = (i: number) => {
      const bytes = new Uint8Array(PAYLOAD_BYTES);
      for (let b = 0; b < PAYLOAD_BYTES; b++) bytes[b] = (i * 31 + b * 7) & 0xff;
      return bytes;
    };
    for (let i = 0; i < ids.length; i += 500) {
      const records = ids.slice(i, i + 500).map((id, j) => ({ PartitionKey: id, Data: payload(i + j) }));
      const out = await app.metered.kinesis.send(new PutRecordsCommand({ StreamName: app.ingressStreams[INGRESS]!, Records: records }));
      if (out.FailedRecordCount) throw new Error(`producer: ${out.FailedRecordCount} of ${records.length} records failed`);
    }
    await app.settle(mark, messages);
    const seconds = (Date.now() - began) / 1000;

    // Check: every address counted exactly one message.
    const states = await app.checkStore.load(ids.map((id) => Address.of(FN_TYPE, id)));
    let total = 0;
    let wrong = 0;
    for (const state of states.values()) {
      const stored = state.values.get('count');
      const count = stored ? Types.int.deserialize(stored.value) : 0;
      total += count;
      if (count !== 1) wrong++;
    }
    if (total !== messages || wrong !== 0) {
      throw new Error(`cold counter: counters add up to ${total} for ${messages} messages, ${wrong} addresses not at exactly 1`);
    }
    if (app.poller.summary().recordsFailed > 0) throw new Error(`cold counter: ${app.poller.summary().recordsFailed} records failed`);
    return {
      title: `cold-address counter: ${messages} messages of 1 KB, each to a new address`,
      messages,
      seconds,
      check: `counts exact (${messages} addresses at 1)`,
      meter: app.meter,
      lambdas: app.lambdas,
      oneItem: app.oneItem,
    };
  } finally {
    await app.stop();
  }
}
