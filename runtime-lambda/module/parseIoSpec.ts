import { typename } from '../core/Address';
import type {
  AwsCredentialsSpec,
  EgressSpec,
  IngressRoute,
  IngressSpec,
  KafkaEgressSpec,
  ModuleSource,
  StartupPosition,
} from './model';
import type { ModuleNode } from './ModuleNode';

/** The ingress kinds a module may declare. */
export const INGRESS_KINDS = ['io.statefun.kinesis.v1/ingress', 'io.statefun.kafka.v1/ingress', 'io.statefun.playground.v1/ingress'] as const;
export type IngressKind = (typeof INGRESS_KINDS)[number];

/** The egress kinds a module may declare. */
export const EGRESS_KINDS = ['io.statefun.kinesis.v1/egress', 'io.statefun.kafka.v1/egress', 'io.statefun.playground.v1/egress'] as const;
export type EgressKind = (typeof EGRESS_KINDS)[number];

/** The ids StateFun's playground gives its ingress and egress (`Constants` in flink-statefun-playground). */
export const PLAYGROUND_INGRESS_ID = 'io.statefun.playground/ingress';
export const PLAYGROUND_EGRESS_ID = 'io.statefun.playground/egress';

const ID = '"namespace/name" with letters, digits, ".", "_" or "-" in each part, e.g. "example/names"';
const FUNCTION_TYPE = 'a function type "namespace/name" with letters, digits, ".", "_" or "-" in each part, e.g. "example/greeter"';
const VALUE_TYPE = 'a type name "namespace/name", e.g. "io.statefun.types/string" or "example/GreetRequest"';
const PROPERTIES = 'a list of one-key mappings, e.g. "- foo.config: bar"';
const BOOTSTRAP = 'Kafka bootstrap servers "host:port[,host:port...]", e.g. "kafka:9092"';
const DATE_PATTERN = 'a date "yyyy-MM-dd HH:mm:ss.SSS Z", e.g. "2020-02-01 04:15:00.000 +0000"';

/**
 * Reads the `spec` of an ingress document of kind `kind` into the typed model, with
 * StateFun's defaults (and ours for the playground's `host` and `maxBodyBytes`).
 *
 * @throws {@link InvalidInputError} naming the document, the field and what was expected.
 */
export function parseIngressSpec(kind: IngressKind, spec: ModuleNode, source: ModuleSource): IngressSpec {
  switch (kind) {
    case 'io.statefun.kinesis.v1/ingress':
      spec.mapping(['id', 'awsRegion', 'awsCredentials', 'startupPosition', 'streams', 'clientConfigProperties'], 'a mapping');
      return {
        kind: 'kinesis',
        source,
        id: id(spec.child('id')),
        ...kinesisClient(spec),
        streams: routes(spec.child('streams'), 'stream'),
        startupPosition: startupPosition(spec.child('startupPosition'), ['earliest', 'latest', 'date']),
      };
    case 'io.statefun.kafka.v1/ingress': {
      spec.mapping(['id', 'address', 'consumerGroupId', 'topics', 'autoOffsetResetPosition', 'startupPosition', 'properties'], 'a mapping');
      const properties = propertyList(spec.child('properties'));
      const reset = spec.child('autoOffsetResetPosition');
      return {
        kind: 'kafka',
        source,
        id: id(spec.child('id')),
        address: bootstrapServers(spec.child('address'), properties),
        consumerGroupId:
          spec.child('consumerGroupId').optionalText('a consumer group id') ??
          properties['group.id'] ??
          spec.child('consumerGroupId').expected('a consumer group id, here or as the group.id property'),
        topics: routes(spec.child('topics'), 'topic'),
        startupPosition: startupPosition(spec.child('startupPosition'), ['earliest', 'latest', 'date', 'group-offsets', 'specific-offsets']),
        autoOffsetResetPosition: reset.isAbsent ? 'latest' : lowerChoice(reset, ['earliest', 'latest']),
        properties,
      };
    }
    case 'io.statefun.playground.v1/ingress':
      spec.mapping(['port', 'host', 'maxBodyBytes'], 'a mapping');
      return {
        kind: 'playground',
        source,
        id: PLAYGROUND_INGRESS_ID,
        port: port(spec.child('port'), 8090),
        host: spec.child('host').optionalText('a host name or IP address to listen on, e.g. "0.0.0.0"') ?? '127.0.0.1',
        maxBodyBytes: spec.child('maxBodyBytes').optionalInteger('a whole number of bytes, at least 1', 1, 1024 * 1024),
      };
  }
}

/**
 * Reads the `spec` of an egress document of kind `kind` into the typed model, with
 * StateFun's defaults (and ours for the playground's `host`).
 *
 * @throws {@link InvalidInputError} naming the document, the field and what was expected.
 */
export function parseEgressSpec(kind: EgressKind, spec: ModuleNode, source: ModuleSource): EgressSpec {
  switch (kind) {
    case 'io.statefun.kinesis.v1/egress':
      spec.mapping(['id', 'awsRegion', 'awsCredentials', 'maxOutstandingRecords', 'clientConfigProperties'], 'a mapping');
      return {
        kind: 'kinesis',
        source,
        id: id(spec.child('id')),
        ...kinesisClient(spec),
        maxOutstandingRecords: spec.child('maxOutstandingRecords').optionalInteger('a whole number of records, at least 1', 1, 1000),
      };
    case 'io.statefun.kafka.v1/egress': {
      spec.mapping(['id', 'address', 'deliverySemantic', 'properties'], 'a mapping');
      const properties = propertyList(spec.child('properties'));
      return {
        kind: 'kafka',
        source,
        id: id(spec.child('id')),
        address: bootstrapServers(spec.child('address'), properties),
        deliverySemantic: deliverySemantic(spec.child('deliverySemantic')),
        properties,
      };
    }
    case 'io.statefun.playground.v1/egress': {
      spec.mapping(['port', 'host', 'topics'], 'a mapping');
      const topics: string[] = [];
      for (const item of spec.child('topics').items('a list of topic names, e.g. "- greetings"', { nonEmpty: true })) {
        const topic = item.text('a topic name');
        if (topics.includes(topic)) throw item.error(`topic "${topic}" is listed twice: expected each topic once`);
        topics.push(topic);
      }
      return {
        kind: 'playground',
        source,
        id: PLAYGROUND_EGRESS_ID,
        port: port(spec.child('port'), 8091),
        host: spec.child('host').optionalText('a host name or IP address to listen on, e.g. "0.0.0.0"') ?? '127.0.0.1',
        topics,
      };
    }
  }
}

function id(node: ModuleNode): string {
  return checkedTypename(node, ID);
}

function checkedTypename(node: ModuleNode, what: string): string {
  const text = node.text(what);
  try {
    return typename(text);
  } catch {
    node.expected(what);
  }
}

function port(node: ModuleNode, fallback: number): number {
  return node.optionalInteger('a TCP port from 1 to 65535, or 0 for any free port', 0, fallback, 65_535);
}

function routes(node: ModuleNode, nameKey: 'stream' | 'topic'): IngressRoute[] {
  const names = new Set<string>();
  return node.items(`a list of ${nameKey}s, each with ${nameKey}, valueType and targets`, { nonEmpty: true }).map((item) => {
    item.mapping([nameKey, 'valueType', 'targets'], `a mapping with ${nameKey}, valueType and targets`);
    const nameNode = item.child(nameKey);
    const name = nameNode.text(`a ${nameKey} name`);
    if (names.has(name)) throw nameNode.error(`${nameKey} "${name}" is listed twice: expected each ${nameKey} once, with all its targets`);
    names.add(name);
    const valueTypeNode = item.child('valueType');
    const valueType = valueTypeNode.text(VALUE_TYPE);
    const slash = valueType.indexOf('/');
    if (slash <= 0 || slash === valueType.length - 1 || /\s/.test(valueType)) valueTypeNode.expected(VALUE_TYPE);
    const targets = item
      .child('targets')
      .items('a list of function types, e.g. "- example/greeter"', { nonEmpty: true })
      .map((target) => checkedTypename(target, FUNCTION_TYPE));
    return { name, valueType, targets };
  });
}

function startupPosition(node: ModuleNode, types: readonly StartupPosition['type'][]): StartupPosition {
  if (node.isAbsent) return { type: 'latest' };
  node.mapping(['type', 'date', 'offsets'], 'a mapping with a type, e.g. "type: earliest"');
  const type = node.child('type').choice(types, 'a startup position type');
  switch (type) {
    case 'date':
      return { type, date: startupDate(node.child('date')) };
    case 'specific-offsets': {
      const offsets: Record<string, number> = {};
      for (const item of node.child('offsets').items('a list of one-key mappings "<topic>/<partition>: <offset>", e.g. "- user-logins/0: 91"', { nonEmpty: true })) {
        const entries = item.entries('a one-key mapping "<topic>/<partition>: <offset>"');
        if (entries.length !== 1) item.expected('a one-key mapping "<topic>/<partition>: <offset>"');
        const entry = entries[0];
        if (!/^.+\/\d+$/.test(entry.key)) throw entry.error('expected a key "<topic>/<partition>" with a whole partition number, e.g. "user-logins/0"');
        offsets[entry.key] = entry.integer('a whole offset, at least 0', 0);
      }
      return { type, offsets };
    }
    default:
      return { type } as StartupPosition;
  }
}

function startupDate(node: ModuleNode): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{3}) ([+-])(\d{2})(\d{2})$/.exec(node.text(DATE_PATTERN));
  if (match === null) node.expected(DATE_PATTERN);
  const [year, month, day, hour, minute, second, ms, sign, offsetHours, offsetMinutes] = match.slice(1);
  const local = Date.UTC(+year, +month - 1, +day, +hour, +minute, +second, +ms);
  const check = new Date(local);
  if (check.getUTCMonth() !== +month - 1 || check.getUTCDate() !== +day || +hour > 23 || +minute > 59 || +second > 59) node.expected(DATE_PATTERN);
  const offsetMs = (sign === '-' ? -1 : 1) * (+offsetHours * 60 + +offsetMinutes) * 60_000;
  return new Date(local - offsetMs);
}

function kinesisClient(spec: ModuleNode): {
  awsRegion?: string;
  awsEndpoint?: string;
  awsCredentials: AwsCredentialsSpec;
  clientConfigProperties: Record<string, string>;
} {
  return {
    ...awsRegion(spec.child('awsRegion')),
    awsCredentials: awsCredentials(spec.child('awsCredentials')),
    clientConfigProperties: propertyList(spec.child('clientConfigProperties')),
  };
}

function awsRegion(node: ModuleNode): { awsRegion?: string; awsEndpoint?: string } {
  if (node.isAbsent) return {};
  node.mapping(['type', 'id', 'endpoint'], 'a mapping with a type, e.g. "type: specific"');
  const regionId = () => {
    const what = 'an AWS region id, e.g. "us-west-2"';
    const region = node.child('id').text(what);
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) node.child('id').expected(what);
    return region;
  };
  switch (node.child('type').choice(['default', 'specific', 'custom-endpoint'], 'an AWS region type')) {
    case 'default':
      return {};
    case 'specific':
      return { awsRegion: regionId() };
    case 'custom-endpoint': {
      const what = 'an http:// or https:// endpoint URL, e.g. "https://localhost:4567"';
      const endpointNode: ModuleNode = node.child('endpoint');
      const endpoint = endpointNode.text(what);
      let url: URL;
      try {
        url = new URL(endpoint);
      } catch {
        endpointNode.expected(what);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') endpointNode.expected(what);
      return { awsRegion: regionId(), awsEndpoint: endpoint };
    }
  }
}

function awsCredentials(node: ModuleNode): AwsCredentialsSpec {
  if (node.isAbsent) return { type: 'default' };
  node.mapping(['type', 'accessKeyId', 'secretAccessKey', 'profileName', 'profilePath'], 'a mapping with a type, e.g. "type: default"');
  const type = node.child('type').choice(['default', 'basic', 'profile'], 'an AWS credentials type');
  switch (type) {
    case 'default':
      return { type };
    case 'basic':
      return { type, accessKeyId: node.child('accessKeyId').text('an access key id'), secretAccessKey: node.child('secretAccessKey').text('a secret access key') };
    case 'profile': {
      const profilePath = node.child('profilePath').optionalText('a path to an AWS config file');
      return { type, profileName: node.child('profileName').text('a profile name'), ...(profilePath === undefined ? {} : { profilePath }) };
    }
  }
}

/** StateFun's `properties` and `clientConfigProperties`: a list of one-key mappings. */
function propertyList(node: ModuleNode): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const item of node.items(PROPERTIES, { optional: true })) {
    const entries = item.entries(PROPERTIES);
    if (entries.length !== 1) item.expected(PROPERTIES);
    const entry = entries[0];
    if (Object.hasOwn(properties, entry.key)) throw entry.error(`property "${entry.key}" is given twice: expected each property once`);
    properties[entry.key] = entry.scalarText('a string, number or boolean value');
  }
  return properties;
}

function bootstrapServers(node: ModuleNode, properties: Readonly<Record<string, string>>): string {
  const address = node.optionalText(BOOTSTRAP) ?? properties['bootstrap.servers'];
  if (address === undefined) node.expected(`${BOOTSTRAP}, here or as the bootstrap.servers property`);
  if (!address.split(',').every((server) => /^\S+:\d{1,5}$/.test(server.trim()))) node.expected(BOOTSTRAP);
  return address;
}

function lowerChoice<T extends string>(node: ModuleNode, choices: readonly T[]): T {
  const text = typeof node.value === 'string' ? node.value.toLowerCase() : '';
  if (!(choices as readonly string[]).includes(text)) node.expected(`an auto offset reset position: one of ${choices.join(', ')} (in any case)`);
  return text as T;
}

function deliverySemantic(node: ModuleNode): KafkaEgressSpec['deliverySemantic'] {
  if (node.isAbsent) return { type: 'at-least-once' };
  node.mapping(['type', 'transactionTimeout', 'transactionTimeoutMillis'], 'a mapping with a type, e.g. "type: at-least-once"');
  const type = node.child('type').choice(['at-least-once', 'exactly-once', 'none'], 'a delivery semantic');
  if (type !== 'exactly-once') return { type };
  const millis = node.child('transactionTimeoutMillis');
  if (!millis.isAbsent) return { type, transactionTimeoutMs: millis.integer('a whole number of milliseconds, at least 1', 1) };
  const timeout = node.child('transactionTimeout');
  if (timeout.isAbsent) timeout.expected('a duration like "15 min", the Kafka transaction timeout that exactly-once needs');
  return { type, transactionTimeoutMs: timeout.duration(0) };
}
