import { Address, typename } from '../core/Address';
import type { Envelope } from '../core/Envelope';
import { InvalidInputError, TerminalError, describeError } from '../core/errors';
import type { InvocationRequest, InvocationResponse } from '../core/Invocation';
import type { FunctionEndpoint, FunctionResolver } from '../core/ports/FunctionEndpoint';
import type { KinesisStreamRecord } from './lambdaEvents';
import { decodeMessageBundle } from './messageRecords';

/**
 * A configured ingress stream (or Kafka topic): its raw records go to instances of
 * `functionType`, the record's partition key (Kafka: its key) being the function id (as in StateFun).
 */
export interface IngressSpec {
  /**
   * The target function type, `namespace/type`; or several (StateFun's `targets`): each
   * record then goes to every one of them.
   */
  readonly functionType: string | readonly string[];
  /**
   * The type name the function sees on the record's bytes.
   * @default - the record's bytes as they are: `statefun.aws/kinesis-record-data` for a
   * stream, `statefun.aws/kafka-record-value` for a Kafka topic
   */
  readonly valueType?: string;
}

/** Ingress streams by stream name. */
export type IngressMap = Readonly<Record<string, IngressSpec>>;

/** The value type of a raw ingress record without a configured `valueType`. */
export const RAW_RECORD_VALUE_TYPE = 'statefun.aws/kinesis-record-data';

/**
 * The built-in function type that turns an undecodable record into a dead letter. Its
 * instances are per shard (`statefun.internal/undecodable/<stream>/<shardId>`), so a poison
 * record is committed like any message: exactly once, with the shard's mark advanced.
 */
export const UNDECODABLE_TYPE = 'statefun.internal/undecodable';
/** The value type of the argument sent to {@link UNDECODABLE_TYPE}: JSON of {@link UndecodableRecord}. */
export const UNDECODABLE_VALUE_TYPE = 'statefun.internal/undecodable-record';

/** What a dead letter of an undecodable record keeps: the whole record and why. */
export interface UndecodableRecord {
  readonly reason: string;
  readonly stream: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  /** The record's data, base64, as Kinesis delivered it. */
  readonly data: string;
}

/** A Kinesis record that cannot become a message; its reason ends in the dead letter. */
export class UndecodableRecordError extends TerminalError {
  constructor(message: string) {
    super(message, { code: 'UNDECODABLE_RECORD' });
  }
}

/** One Kinesis record of a batch and the envelopes it became. */
export interface DecodedKinesisRecord {
  readonly stream: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** Its messages in order; one envelope to the shard's undecodable sink if it did not decode. */
  readonly envelopes: readonly Envelope[];
  /** Why the record could not be decoded, when it could not. */
  readonly undecodable?: string;
}

/**
 * Decodes one record of a Kinesis event: a raw record of a configured ingress stream
 * becomes one envelope (key = function id, origin `ingress` at `<stream>/<shardId>` and the
 * sequence number, id `<stream>/<shardId>/<seq>`); a record of any other stream must be a
 * message bundle. A record that decodes to nothing valid becomes one envelope to the
 * shard's {@link UNDECODABLE_TYPE} sink carrying the record and the reason, never an error:
 * a bad record must not block its shard.
 *
 * @throws {@link InvalidInputError} only when the event itself is not shaped as AWS sends
 * it (no `shardId-…:seq` event id, no stream ARN): a wiring mistake, not a bad record.
 */
export function decodeKinesisRecord(record: KinesisStreamRecord, ingresses: IngressMap): DecodedKinesisRecord {
  const stream = streamNameOf(record.eventSourceARN);
  const sequenceNumber = record.kinesis?.sequenceNumber;
  const colon = typeof record.eventID === 'string' ? record.eventID.indexOf(':') : -1;
  if (colon <= 0 || typeof sequenceNumber !== 'string' || sequenceNumber.length === 0) {
    throw new InvalidInputError(
      `Kinesis event record ${JSON.stringify(record.eventID)} has no "shardId-…:<sequence number>" eventID or kinesis.sequenceNumber: the handler must be driven by a Kinesis event source mapping`,
    );
  }
  const shardId = record.eventID.slice(0, colon);
  const source = `${stream}/${shardId}`;
  const base = { stream, shardId, sequenceNumber };
  const partitionKey = String(record.kinesis.partitionKey ?? '');
  const arrival = record.kinesis.approximateArrivalTimestamp;
  const arrivedAtMs = typeof arrival === 'number' && Number.isFinite(arrival) ? Math.round(arrival * 1000) : undefined;
  const arrived = arrivedAtMs === undefined ? {} : { arrivedAtMs };
  const data = new Uint8Array(Buffer.from(String(record.kinesis.data ?? ''), 'base64'));
  const undecodable = (reason: string): DecodedKinesisRecord => {
    const payload: UndecodableRecord = { reason, stream, shardId, sequenceNumber, partitionKey, data: String(record.kinesis.data ?? '') };
    return {
      ...base,
      undecodable: reason,
      envelopes: [
        {
          id: `${source}/${sequenceNumber}`,
          target: Address.of(UNDECODABLE_TYPE, source),
          argument: { typename: UNDECODABLE_VALUE_TYPE, value: new TextEncoder().encode(JSON.stringify(payload)) },
          origin: { kind: 'ingress', source, position: sequenceNumber },
        },
      ],
    };
  };

  const ingress = Object.prototype.hasOwnProperty.call(ingresses, stream) ? ingresses[stream] : undefined;
  if (ingress !== undefined) {
    const targets = typeof ingress.functionType === 'string' ? [ingress.functionType] : ingress.functionType;
    const envelopes: Envelope[] = [];
    for (const functionType of targets) {
      let target: Address;
      try {
        target = Address.of(functionType, partitionKey);
      } catch (error) {
        return undecodable(`record of ingress stream ${stream} has partition key ${JSON.stringify(partitionKey)}, not a valid function id for ${functionType}: ${describeError(error)}`);
      }
      envelopes.push({
        // One record for several targets: each copy has its own id (its dead letter would too).
        id: targets.length === 1 ? `${source}/${sequenceNumber}` : `${source}/${sequenceNumber}@${functionType}`,
        target,
        argument: { typename: ingress.valueType ?? RAW_RECORD_VALUE_TYPE, value: data },
        origin: { kind: 'ingress', source, position: sequenceNumber, ...arrived },
      });
    }
    return { ...base, envelopes };
  }
  try {
    const envelopes = decodeMessageBundle(data, partitionKey);
    // A producer's message on the message stream is an ingress record: it ages like one.
    return { ...base, envelopes: arrivedAtMs === undefined ? envelopes : envelopes.map((e) => (e.origin.kind === 'ingress' ? { ...e, origin: { ...e.origin, arrivedAtMs } } : e)) };
  } catch (error) {
    const hint = ` (stream ${stream} is not a configured ingress, so its records must be message bundles)`;
    return undecodable(`${describeError(error)}${hint}`);
  }
}

/**
 * The endpoint of {@link UNDECODABLE_TYPE}: it fails every message with the record's reason
 * (a terminal error, so no retry), which makes the dispatcher commit it as a dead letter.
 */
export const undecodableRecordSink: FunctionEndpoint = {
  async invoke(request: InvocationRequest): Promise<InvocationResponse> {
    const reasons = request.invocations.map((invocation) => {
      try {
        const bytes = invocation.argument.value ?? new Uint8Array(0);
        return (JSON.parse(Buffer.from(bytes).toString('utf8')) as UndecodableRecord).reason;
      } catch {
        return `message of type ${invocation.argument.typename} sent to the undecodable-record sink ${request.target.key}`;
      }
    });
    throw new UndecodableRecordError(reasons.join('; '));
  },
};

/** `functions`, plus the built-in {@link undecodableRecordSink}. */
export function withUndecodableSink(functions: FunctionResolver): FunctionResolver {
  return { resolve: (fnType) => (fnType === UNDECODABLE_TYPE ? undecodableRecordSink : functions.resolve(fnType)) };
}

/** The stream name of a Kinesis stream ARN (`arn:aws:kinesis:…:stream/<name>`). */
export function streamNameOf(arn: string): string {
  const at = typeof arn === 'string' ? arn.indexOf(':stream/') : -1;
  if (at < 0 || !arn.startsWith('arn:') || at + 8 >= arn.length) {
    throw new InvalidInputError(
      `Kinesis event record has eventSourceARN ${JSON.stringify(arn)}, expected "arn:aws:kinesis:<region>:<account>:stream/<name>": the handler must be driven by a Kinesis event source mapping`,
    );
  }
  return arn.slice(at + 8);
}

/** Validates an ingress map: every function type a `namespace/type`. */
export function validateIngresses(ingresses: IngressMap, origin = 'ingresses'): IngressMap {
  for (const [stream, spec] of Object.entries(ingresses)) {
    try {
      const targets = typeof spec.functionType === 'string' ? [spec.functionType] : spec.functionType;
      if (targets.length === 0) throw new InvalidInputError('no target function type');
      for (const functionType of targets) typename(functionType);
      if (spec.valueType !== undefined) typename(spec.valueType);
    } catch (error) {
      throw new InvalidInputError(`${origin}: ingress ${JSON.stringify(stream)}: ${(error as Error).message}`);
    }
  }
  return ingresses;
}
