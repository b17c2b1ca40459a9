import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { Address } from '../../../runtime-lambda/core/Address';
import type { LocalAwsEndpoints } from '../../../runtime-lambda/aws/LocalAws';
import { StatefulFunctions, Types, customType, defineFunction, message } from '../../../runtime-lambda/sdk';
import { startMeteredApp } from './harness';
import type { WorkloadResult } from './report';

const SENDER_TYPE = 'bench/tx-manager';
const RECEIVER = Address.of('bench/scorer', 'merchant-1');
const PAYLOAD_BYTES = 1024;
const INGRESS = 'transactions';
const payloadType = customType<Uint8Array>('bench.types/payload', (bytes) => bytes, (bytes) => bytes);

/** A sender with no state: it forwards its ingress record's 1 KB payload to the receiver. */
const txManager = defineFunction({
  typename: SENDER_TYPE,
  state: {},
  handle(ctx, msg) {
    ctx.send(message({ to: RECEIVER, value: msg.as(payloadType), type: payloadType }));
  },
});

/** The receiver: counts the 1 KB messages it gets. */
const scorer = defineFunction({
  typename: RECEIVER.typename,
  state: { count: Types.int },
  handle(ctx, msg) {
    const bytes = msg.as(payloadType);
    if (bytes.byteLength !== PAYLOAD_BYTES) throw new TypeError(`${ctx.self}: expected ${PAYLOAD_BYTES} bytes, got ${bytes.byteLength}`);
    ctx.storage.count = (ctx.storage.count ?? 0) + 1;
  },
});

/**
 * Who sends: `fan-in`, one one-shot sender per message; `one-sender`, one sender that gets
 * one ingress record per invocation, so one message per commit (the same traffic at the
 * receiver, from one sender); `one-sender-batched`, one sender that gets 100 records per
 * invocation and so sends 100 messages per commit.
 */
export type FanInShape = 'fan-in' | 'one-sender' | 'one-sender-batched';

/** The receiver's side of a run and the senders' side, metered apart. */
export interface FanInRun {
  /** Delivering and applying the messages at the receiver: the relay and the message stream's dispatcher. */
  readonly receiver: WorkloadResult;
  /** The senders' own invocations and commits (ingress records in, inbox entries out). */
  readonly senders: WorkloadResult;
}

/**
 * `messages` 1 KB messages to ONE receiver, each sent by a function: from `messages`
 * one-shot senders (`fan-in`, the fraud demo's transaction managers asking a merchant
 * scorer), or all from one sender (`one-sender`). The senders are fed by a producer on an
 * ingress stream; the relay and the dispatcher's invocations on the message stream are
 * metered apart from the senders', so the receiver's figures are what receiving a message
 * costs. Checks the receiver counted every message exactly once.
 */
export async function runFanIn(endpoints: LocalAwsEndpoints, messages: number, shape: FanInShape): Promise<FanInRun> {
  const functions = new StatefulFunctions().withFunction(txManager).withFunction(scorer).resolver();
  const app = await startMeteredApp(endpoints, {
    name: shape,
    functions,
    ingresses: { [INGRESS]: { functionType: SENDER_TYPE, valueType: payloadType.typename } },
    ingressShards: 2,
    ingressBatchSize: shape === 'one-sender' ? 1 : 100,
    meterDeliveryApart: true,
  });
  try {
    const began = Date.now();
    const mark = app.readMark();
    const payload = (i: number) => {
      const bytes = new Uint8Array(PAYLOAD_BYTES);
      for (let b = 0; b < PAYLOAD_BYTES; b++) bytes[b] = (i * 31 + b * 7) & 0xff;
      return bytes;
    };
    for (let i = 0; i < messages; i += 500) {
      const records = Array.from({ length: Math.min(500, messages - i) }, (_, j) => ({ PartitionKey: shape === 'fan-in' ? `tx-${i + j}` : 'solo', Data: payload(i + j) }));
      const out = await app.metered.kinesis.send(new PutRecordsCommand({ StreamName: app.ingressStreams[INGRESS]!, Records: records }));
      if (out.FailedRecordCount) throw new Error(`producer: ${out.FailedRecordCount} of ${records.length} records failed`);
    }
    await app.settle(mark, messages);
    const seconds = (Date.now() - began) / 1000;

    const stored = (await app.checkStore.load([RECEIVER])).get(RECEIVER.key)!.values.get('count');
    const count = stored ? Types.int.deserialize(stored.value) : 0;
    if (count !== messages) throw new Error(`${shape}: the receiver counted ${count} of ${messages} messages`);
    if (app.poller.summary().recordsFailed > 0) throw new Error(`${shape}: ${app.poller.summary().recordsFailed} records failed`);
    const senders = { 'fan-in': `${messages} one-shot senders`, 'one-sender': 'one sender, one message per commit', 'one-sender-batched': 'one sender, 100 messages per commit' }[shape];
    return {
      receiver: {
        title: `${shape}: ${messages} messages of 1 KB to one receiver from ${senders}, at the receiver (relay + its dispatcher)`,
        messages,
        seconds,
        check: `count exact (${count})`,
        meter: app.delivery.meter,
        lambdas: app.delivery.lambdas,
        oneItem: app.delivery.oneItem,
      },
      senders: {
        title: `${shape}: the senders' side (their invocations and commits)`,
        messages,
        seconds,
        check: 'see above',
        meter: app.meter,
        lambdas: app.lambdas,
        oneItem: app.oneItem,
      },
    };
  } finally {
    await app.stop();
  }
}
