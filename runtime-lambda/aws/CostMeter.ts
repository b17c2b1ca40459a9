import type { InitializeMiddleware, MetadataBearer, MiddlewareStack } from '@smithy/types';

/**
 * On-demand prices in us-east-1, in dollars, kept with their sources in docs/cost.md.
 * Per-unit figures; fixed costs (stream hours, storage) are not per message and left out.
 */
export const US_EAST_1_PRICES = {
  /** Per write request unit (1 KB; transactional writes cost 2 per KB per item). */
  dynamoWriteUnit: 0.625 / 1e6,
  /** Per read request unit (4 KB strongly consistent; half a unit eventually consistent). */
  dynamoReadUnit: 0.125 / 1e6,
  /** Per Kinesis PUT payload unit (25 KB), provisioned mode. */
  kinesisPutUnit: 0.014 / 1e6,
  /** Per Lambda request. */
  lambdaRequest: 0.2 / 1e6,
  /** Per Lambda GB-second, arm64. */
  lambdaGbSecond: 0.0000133334,
  /** Per SQS request (each 64 KB chunk of a payload is one request). */
  sqsRequest: 0.4 / 1e6,
  /** Per EventBridge Scheduler invocation. */
  schedulerInvocation: 1.0 / 1e6,
} as const;

/** Billed units counted by a {@link CostMeter}. */
export interface BilledUnits {
  dynamoWriteUnits: number;
  dynamoReadUnits: number;
  kinesisPutUnits: number;
  lambdaRequests: number;
  lambdaGbSeconds: number;
  sqsRequests: number;
  schedulerInvocations: number;
}

interface ConsumedCapacity {
  readonly ReadCapacityUnits?: number;
  readonly WriteCapacityUnits?: number;
  readonly CapacityUnits?: number;
}

const KINESIS_PUT_UNIT_BYTES = 25 * 1024;
const SQS_CHUNK_BYTES = 64 * 1024;
const DYNAMO_COMMANDS_WITH_CAPACITY = new Set([
  'GetItemCommand',
  'BatchGetItemCommand',
  'QueryCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
  'TransactGetItemsCommand',
]);

/**
 * Counts every AWS call made through the clients it is attached to, and what each is billed:
 * DynamoDB read and write units as DynamoDB itself reports them (the meter asks for
 * `ReturnConsumedCapacity: TOTAL`), Kinesis PUT payload units from the record sizes, SQS
 * requests in 64 KB chunks, Scheduler invocations; Lambda requests and GB-seconds are
 * recorded by whoever runs the handlers ({@link recordLambdaInvocation}).
 *
 * @example
 * const meter = new CostMeter();
 * meter.attach(dynamoClient);
 * // ... run the workload ...
 * console.log(meter.dollars() / messages * 1e6, 'dollars per million messages');
 */
export class CostMeter {
  readonly calls = new Map<string, number>();
  readonly units: BilledUnits = {
    dynamoWriteUnits: 0,
    dynamoReadUnits: 0,
    kinesisPutUnits: 0,
    lambdaRequests: 0,
    lambdaGbSeconds: 0,
    sqsRequests: 0,
    schedulerInvocations: 0,
  };

  /** Meters every call `client` makes from now on. */
  attach<I extends object, O extends MetadataBearer>(client: { readonly middlewareStack: MiddlewareStack<I, O> }): void {
    const meter: InitializeMiddleware<I, O> = (next, context) => async (args) => {
      const command = context.commandName ?? 'UnknownCommand';
      const service = (context.clientName ?? 'UnknownClient').replace(/Client$/, '');
      const input = args.input as Record<string, unknown>;
      this.count(`${service}.${command.replace(/Command$/, '')}`);
      if (service === 'DynamoDB' && DYNAMO_COMMANDS_WITH_CAPACITY.has(command)) input.ReturnConsumedCapacity ??= 'TOTAL';
      const result = await next(args);
      this.bill(service, command, input, result.output as Record<string, unknown>);
      return result;
    };
    client.middlewareStack.add(meter, { step: 'initialize', name: 'statefunCostMeter', override: true });
  }

  /** Records one Lambda invocation of `durationMs` at `memoryMb`. */
  recordLambdaInvocation(durationMs: number, memoryMb: number): void {
    this.units.lambdaRequests++;
    // Lambda bills duration rounded up to the millisecond.
    this.units.lambdaGbSeconds += (Math.ceil(durationMs) / 1000) * (memoryMb / 1024);
  }

  /** What the counted units cost at `prices`. */
  dollars(prices: typeof US_EAST_1_PRICES = US_EAST_1_PRICES): number {
    const u = this.units;
    return (
      u.dynamoWriteUnits * prices.dynamoWriteUnit +
      u.dynamoReadUnits * prices.dynamoReadUnit +
      u.kinesisPutUnits * prices.kinesisPutUnit +
      u.lambdaRequests * prices.lambdaRequest +
      u.lambdaGbSeconds * prices.lambdaGbSecond +
      u.sqsRequests * prices.sqsRequest +
      u.schedulerInvocations * prices.schedulerInvocation
    );
  }

  /** The dollars of each kind of unit, largest first: what dominates the bill. */
  breakdown(prices: typeof US_EAST_1_PRICES = US_EAST_1_PRICES): [string, number][] {
    const u = this.units;
    const parts: [string, number][] = [
      ['DynamoDB writes', u.dynamoWriteUnits * prices.dynamoWriteUnit],
      ['DynamoDB reads', u.dynamoReadUnits * prices.dynamoReadUnit],
      ['Kinesis puts', u.kinesisPutUnits * prices.kinesisPutUnit],
      ['Lambda requests', u.lambdaRequests * prices.lambdaRequest],
      ['Lambda duration', u.lambdaGbSeconds * prices.lambdaGbSecond],
      ['SQS', u.sqsRequests * prices.sqsRequest],
      ['Scheduler', u.schedulerInvocations * prices.schedulerInvocation],
    ];
    return parts.sort((a, b) => b[1] - a[1]);
  }

  private count(call: string): void {
    this.calls.set(call, (this.calls.get(call) ?? 0) + 1);
  }

  private bill(service: string, command: string, input: Record<string, unknown>, output: Record<string, unknown>): void {
    if (service === 'DynamoDB') {
      const consumed = output.ConsumedCapacity as ConsumedCapacity | ConsumedCapacity[] | undefined;
      for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        const isWrite = /Put|Update|Delete|Write/.test(command);
        const units = c.CapacityUnits ?? (isWrite ? c.WriteCapacityUnits : c.ReadCapacityUnits) ?? 0;
        if (isWrite) this.units.dynamoWriteUnits += units;
        else this.units.dynamoReadUnits += units;
      }
    } else if (service === 'Kinesis' && (command === 'PutRecordsCommand' || command === 'PutRecordCommand')) {
      const records = (command === 'PutRecordsCommand' ? (input.Records as KinesisPut[]) : [input as unknown as KinesisPut]) ?? [];
      for (const r of records) this.units.kinesisPutUnits += Math.max(1, Math.ceil(kinesisBytes(r) / KINESIS_PUT_UNIT_BYTES));
    } else if (service === 'SQS' && /Send|Receive|Delete/.test(command)) {
      const bytes = sqsPayloadBytes(input);
      this.units.sqsRequests += Math.max(1, Math.ceil(bytes / SQS_CHUNK_BYTES));
    } else if (service === 'Scheduler' && command === 'CreateScheduleCommand') {
      this.units.schedulerInvocations++;
    }
  }
}

interface KinesisPut {
  readonly Data?: Uint8Array;
  readonly PartitionKey?: string;
}

function kinesisBytes(record: KinesisPut): number {
  return (record.Data?.byteLength ?? 0) + Buffer.byteLength(record.PartitionKey ?? '');
}

function sqsPayloadBytes(input: Record<string, unknown>): number {
  const entries = (input.Entries as { MessageBody?: string }[] | undefined) ?? [input as { MessageBody?: string }];
  return entries.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''), 0);
}
