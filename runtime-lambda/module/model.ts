/**
 * A StateFun module (module.yaml) as this runtime understands it: what `parseModule` reads
 * from either of StateFun's formats (`kind:`/`spec:` documents, or the legacy
 * `version: "3.0"` `module:` document) and what `statefun dev --module` and the CDK
 * construct run. See docs/statefun-compatibility.md.
 */

/** Where a part of the module came from, named in errors: `module.yaml, document 3 (io.statefun.endpoints.v2/http)`. */
export interface ModuleSource {
  readonly file: string;
  /** 1-based index of the YAML document (the legacy format has one). */
  readonly document: number;
  readonly kind: string;
}

/** The function types an endpoint serves: one type (`ns/name`) or a whole namespace (`ns/*`). */
export interface FunctionTypePattern {
  readonly namespace: string;
  /** The type name; absent for `ns/*`. */
  readonly name?: string;
}

/**
 * StateFun's endpoint timeouts, in ms. `call` is the budget of one call, all attempts and
 * backoffs included; `connect`, `read` and `write` limit each attempt's phases. StateFun's
 * async transport has no read or write timeout: for it they equal `callMs`.
 */
export interface EndpointTimeouts {
  readonly callMs: number;
  readonly connectMs: number;
  readonly readMs: number;
  readonly writeMs: number;
}

/** StateFun's HTTP transport clients (`spec.transport.type`). */
export type HttpTransportType = 'io.statefun.transports.v1/async' | 'io.statefun.transports.v1/okhttp';

/** `spec.transport` of an HTTP endpoint, defaults filled in (StateFun's async transport unless `type` says otherwise). */
export interface HttpTransportSpec {
  readonly type: HttpTransportType;
  /** Largest request or response body (async `payload_max_bytes`). StateFun's default: 32 MiB. */
  readonly payloadMaxBytes: number;
}

/** Settings shared by every kind of function endpoint. */
interface EndpointBase {
  readonly source: ModuleSource;
  readonly functions: FunctionTypePattern;
  /** At most this many invocations in one request to the function; an address's backlog goes in order in several. StateFun's default: 1000. */
  readonly maxNumBatchRequests: number;
  readonly timeouts: EndpointTimeouts;
}

/** `io.statefun.endpoints.v2/http` (and v1): functions served over HTTP. */
export interface HttpEndpointSpec extends EndpointBase {
  readonly kind: 'http';
  /** The URL, `{function.name}` substituted by the type's name. */
  readonly urlPathTemplate: string;
  readonly transport: HttpTransportSpec;
}

/** Our own kind (`com.statefun-aws.endpoints.v1/lambda`): functions served by an AWS Lambda. */
export interface LambdaEndpointSpec extends EndpointBase {
  readonly kind: 'lambda';
  /** A function name or ARN, `{function.name}` substituted by the type's name. */
  readonly functionNameTemplate: string;
}

export type EndpointSpec = HttpEndpointSpec | LambdaEndpointSpec;

/** A stream or topic of an ingress, routed to every target, the record key as the id. */
export interface IngressRoute {
  /** The stream (Kinesis) or topic (Kafka). */
  readonly name: string;
  /** The typename the record's bytes are given, e.g. `io.statefun.types/string`. */
  readonly valueType: string;
  /** Function types (`ns/name`) that receive each record. */
  readonly targets: readonly string[];
}

/**
 * Where a stream or topic ingress starts reading the first time. StateFun's default: `latest`.
 * `group-offsets` and `specific-offsets` (`"<topic>/<partition>"` → offset) are Kafka's only.
 */
export type StartupPosition =
  | { readonly type: 'latest' }
  | { readonly type: 'earliest' }
  | { readonly type: 'date'; readonly date: Date }
  | { readonly type: 'group-offsets' }
  | { readonly type: 'specific-offsets'; readonly offsets: Readonly<Record<string, number>> };

/**
 * StateFun's `awsCredentials`: the default provider chain, keys in the file, or a profile.
 * On AWS the dispatcher's IAM role is used instead (see docs/statefun-compatibility.md).
 */
export type AwsCredentialsSpec =
  | { readonly type: 'default' }
  | { readonly type: 'basic'; readonly accessKeyId: string; readonly secretAccessKey: string }
  | { readonly type: 'profile'; readonly profileName: string; readonly profilePath?: string };

/** Settings shared by the Kinesis ingress and egress. */
interface KinesisClientSpec {
  /** The region id (`awsRegion.type: specific` or `custom-endpoint`); absent: the default provider chain. */
  readonly awsRegion?: string;
  /** `awsRegion.type: custom-endpoint`: the endpoint URL, e.g. a local emulator. */
  readonly awsEndpoint?: string;
  readonly awsCredentials: AwsCredentialsSpec;
  /** `clientConfigProperties`, as StateFun passes them to the Kinesis client. */
  readonly clientConfigProperties: Readonly<Record<string, string>>;
}

export interface KinesisIngressSpec extends KinesisClientSpec {
  readonly kind: 'kinesis';
  readonly source: ModuleSource;
  /** The ingress id, `ns/name`. */
  readonly id: string;
  readonly streams: readonly IngressRoute[];
  readonly startupPosition: StartupPosition;
}

export interface KafkaIngressSpec {
  readonly kind: 'kafka';
  readonly source: ModuleSource;
  readonly id: string;
  /** Bootstrap servers, `host:port[,host:port...]`. */
  readonly address: string;
  readonly consumerGroupId: string;
  readonly topics: readonly IngressRoute[];
  readonly startupPosition: StartupPosition;
  /** Where to start when the group has no committed offset. StateFun's default: `latest`. */
  readonly autoOffsetResetPosition: 'earliest' | 'latest';
  /** Kafka client properties (`properties`); `address` and `consumerGroupId` win over `bootstrap.servers` and `group.id`. */
  readonly properties: Readonly<Record<string, string>>;
}

/** StateFun's playground ingress: HTTP on `port`, any method on `/<namespace>/<type>/<id>`. */
export interface PlaygroundIngressSpec {
  readonly kind: 'playground';
  readonly source: ModuleSource;
  /** Always `io.statefun.playground/ingress`: a module has at most one. */
  readonly id: string;
  /** StateFun's playground: 8090. */
  readonly port: number;
  /** Unlike StateFun (all interfaces), 127.0.0.1 unless configured. */
  readonly host: string;
  readonly maxBodyBytes: number;
}

export type IngressSpec = KinesisIngressSpec | KafkaIngressSpec | PlaygroundIngressSpec;

/** Writes the SDKs' `KinesisEgressRecord`s: each record names its stream, partition key and optional explicit hash key. */
export interface KinesisEgressSpec extends KinesisClientSpec {
  readonly kind: 'kinesis';
  readonly source: ModuleSource;
  /** The egress id functions write to, `ns/name`. */
  readonly id: string;
  /** StateFun's default: 1000. */
  readonly maxOutstandingRecords: number;
}

export interface KafkaEgressSpec {
  readonly kind: 'kafka';
  readonly source: ModuleSource;
  readonly id: string;
  readonly address: string;
  readonly deliverySemantic: { readonly type: 'exactly-once' | 'at-least-once' | 'none'; readonly transactionTimeoutMs?: number };
  readonly properties: Readonly<Record<string, string>>;
}

/** StateFun's playground egress: one record per `GET /<topic>` on `port`, 404 when empty. */
export interface PlaygroundEgressSpec {
  readonly kind: 'playground';
  readonly source: ModuleSource;
  /** Always `io.statefun.playground/egress`, where functions send `io.statefun.playground/EgressRecord` JSON `{topic, payload}`. */
  readonly id: string;
  /** StateFun's playground: 8091. */
  readonly port: number;
  /** Unlike StateFun (all interfaces), 127.0.0.1 unless configured. */
  readonly host: string;
  readonly topics: readonly string[];
}

export type EgressSpec = KinesisEgressSpec | KafkaEgressSpec | PlaygroundEgressSpec;

/** A whole module: every document of a module.yaml, validated. */
export interface StatefunModule {
  readonly file: string;
  readonly endpoints: readonly EndpointSpec[];
  readonly ingresses: readonly IngressSpec[];
  readonly egresses: readonly EgressSpec[];
}
