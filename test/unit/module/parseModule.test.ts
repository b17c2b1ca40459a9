import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../../../runtime-lambda/core/errors';
import type { StatefunModule } from '../../../runtime-lambda/module/model';
import { parseModule, readModuleFile } from '../../../runtime-lambda/module/parseModule';

// Module texts as StateFun users wrote them: apache/flink-statefun-playground (python/greeter,
// javascript/greeter, java/showcase, python/showcase), StateFun's docs and its binder tests.

const PYTHON_GREETER = `
kind: io.statefun.endpoints.v2/http
spec:
  functions: example/*
  urlPathTemplate: http://functions:8000/statefun
  transport:
    type: io.statefun.transports.v1/async
---
kind: io.statefun.playground.v1/ingress
spec:
  port: 8090
---
kind: io.statefun.playground.v1/egress
spec:
  port: 8091
  topics:
    - greetings
`;

const JAVASCRIPT_GREETER = `
kind: io.statefun.endpoints.v2/http
spec:
  functions: example/*
  urlPathTemplate: http://functions:8000/statefun
---
kind: io.statefun.playground.v1/ingress
spec:
  port: 8090
---
kind: io.statefun.playground.v1/egress
spec:
  port: 8091
  topics:
    - greetings
`;

const JAVA_SHOWCASE = `
kind: io.statefun.endpoints.v2/http
spec:
  functions: java.showcase.fns/*
  urlPathTemplate: http://host.testcontainers.internal:1108/
  transport:
    type: io.statefun.transports.v1/async
    call: 1day # setting a very high timeout here facilitates the user
               # to set breakpoints in the function Java code
---
kind: io.statefun.kafka.v1/ingress
spec:
  id: java.showcase.io/user-logins
  address: kafka:9092
  consumerGroupId: java.showcase.greeter
  startupPosition:
    type: earliest
  topics:
    - topic: user-logins
      valueType: java.showcase.types/org.apache.flink.statefun.playground.java.showcase.part1.types.UserLogin
      targets:
        - java.showcase.fns/user
---
kind: io.statefun.kafka.v1/egress
spec:
  id: java.showcase.io/user-greetings
  address: kafka:9092
  deliverySemantic:
    type: at-least-once
`;

const PYTHON_SHOWCASE_EGRESS = `
kind: io.statefun.kafka.v1/egress
spec:
  id: showcase/greets
  address: kafka:9092
  deliverySemantic:
    type: exactly-once
    transactionTimeout: 15min
`;

const BINDER_V1 = `
kind: io.statefun.endpoints.v1/http
spec:
  functions: com.foo.bar/*
  urlPathTemplate: http://bar.foo.com:8080/functions/{function.name}
  maxNumBatchRequests: 10000
  timeouts:
    call: 1minute
    connect: 30seconds
    read: 20seconds
    write: 10seconds
`;

const BINDER_V2_OKHTTP = `
kind: io.statefun.endpoints.v2/http
spec:
  functions: com.foo.bar/*
  urlPathTemplate: http://bar.foo.com:8080/functions/{function.name}
  maxNumBatchRequests: 10000
  transport:
    type: io.statefun.transports.v1/okhttp
    timeouts:
      call: 1minute
      connect: 30seconds
      read: 20seconds
      write: 10seconds
`;

const DOCS_V2 = `
kind: io.statefun.endpoints.v2/http
spec:
  functions: com.example/*
  urlPathTemplate: https://bar.foo.com:8080/{function.name}
  transport:
    timeouts:
      call: 1 min
      read: 10 sec
      write: 10 sec
`;

const DOCS_V2_ASYNC = `
kind: io.statefun.endpoints.v2/http
spec:
  functions: com.example/*
  urlPathTemplate: https://bar.foo.com:8080/{function.name}
  transport:
    type: io.statefun.transports.v1/async
    call: 2m
    connect: 20s
    pool_ttl: 15s
    pool_size: 1024
    payload_max_bytes: 33554432
`;

const KINESIS_INGRESS = `
kind: io.statefun.kinesis.v1/ingress
spec:
  id: com.foo.bar/test-ingress
  awsRegion:
    type: specific
    id: us-west-2
  awsCredentials:
    type: basic
    accessKeyId: my_access_key_id
    secretAccessKey: my_secret_access_key
  startupPosition:
    type: earliest
  streams:
    - stream: stream-1
      valueType: com.googleapis/com.mycomp.foo.MessageA
      targets:
        - com.mycomp.foo/function-1
        - com.mycomp.foo/function-2
    - stream: topic-2
      valueType: com.googleapis/com.mycomp.foo.MessageB
      targets:
        - com.mycomp.foo/function-2
  clientConfigProperties:
    - SocketTimeout: 9999
    - MaxConnections: 15
`;

const KINESIS_EGRESS = `
kind: io.statefun.kinesis.v1/egress
spec:
  id: com.foo.bar/test-egress
  awsRegion:
    type: custom-endpoint
    endpoint: https://localhost:4567
    id: us-west-1
  awsCredentials:
    type: profile
    profileName: john-doe
    profilePath: /path/to/profile/config
  maxOutstandingRecords: 9999
  clientConfigProperties:
    - ThreadingModel: POOLED
    - ThreadPoolSize: 10
`;

const KAFKA_INGRESS = `
kind: io.statefun.kafka.v1/ingress
spec:
  id: com.foo.bar/test-ingress
  address: kafka-broker:9092
  consumerGroupId: my-group-id
  topics:
    - topic: topic-1
      valueType: com.googleapis/com.mycomp.foo.MessageA
      targets:
        - com.mycomp.foo/function-1
        - com.mycomp.foo/function-2
    - topic: topic-2
      valueType: com.googleapis/com.mycomp.foo.MessageB
      targets:
        - com.mycomp.foo/function-2
  autoOffsetResetPosition: earliest
  startupPosition:
    type: earliest
  properties:
    - foo.config: bar
`;

const LEGACY_V3_0 = `
version: "3.0"

module:
  meta:
    type: remote
  spec:
    endpoints:
      - endpoint:
          meta:
            kind: http
          spec:
            functions: com.foo.bar/*
            urlPathTemplate: http://bar.foo.com:8080/functions/{function.name}
            timeouts:
              call: 1minutes
              connect: 10seconds
              read: 10second
              write: 10seconds
            maxNumBatchRequests: 10000
    ingresses:
      - ingress:
          meta:
            type: io.statefun.kinesis/ingress
            id: com.mycomp.igal/names
          spec:
            awsRegion:
              type: specific
              id: eu-west-1
            streams:
              - stream: names
                valueType: com.mycomp.igal/Name
                targets:
                  - com.foo.bar/greeter
    egresses:
      - egress:
          meta:
            type: io.statefun.kafka/egress
            id: com.mycomp.foo/bar
          spec:
            address: kafka-broker:9092
            deliverySemantic:
              type: exactly-once
              transactionTimeoutMillis: 100000
            properties:
              - foo.config: bar
`;

const LAMBDA = `
kind: com.statefun-aws.endpoints.v1/lambda
spec:
  functions: shop/*
  functionName: arn:aws:lambda:eu-west-1:123456789012:function:shop-{function.name}
  maxNumBatchRequests: 50
  timeouts:
    call: 2 min
    read: 40s
`;

const source = (document: number, kind: string) => ({ file: 'module.yaml', document, kind });
const parse = (text: string) => parseModule(text, 'module.yaml');

/** The error parsing `text` throws, checked to be an InvalidInputError. */
function parseError(text: string): string {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as Error).message;
  }
  throw new Error('expected parseModule to throw');
}

/** A module with one document of `kind` and this `spec` (YAML, indented by two). */
const doc = (kind: string, spec: string) => `kind: ${kind}\nspec:\n${spec.replace(/^/gm, '  ')}\n`;
const V2 = 'io.statefun.endpoints.v2/http';
const KINESIS_IN = 'io.statefun.kinesis.v1/ingress';
const KAFKA_IN = 'io.statefun.kafka.v1/ingress';
const KAFKA_OUT = 'io.statefun.kafka.v1/egress';

describe('Function: parseModule', () => {
  describe('the kind/spec format', () => {
    it('reads the playground python/greeter module: async transport defaults, playground ingress and egress', () => {
      // Act
      const module = parse(PYTHON_GREETER);

      // Assess
      expect(module).toEqual<StatefunModule>({
        file: 'module.yaml',
        endpoints: [
          {
            kind: 'http',
            source: source(1, V2),
            functions: { namespace: 'example' },
            urlPathTemplate: 'http://functions:8000/statefun',
            maxNumBatchRequests: 1000,
            transport: { type: 'io.statefun.transports.v1/async', payloadMaxBytes: 32 * 1024 * 1024 },
            timeouts: { callMs: 120_000, connectMs: 20_000, readMs: 120_000, writeMs: 120_000 },
          },
        ],
        ingresses: [
          { kind: 'playground', source: source(2, 'io.statefun.playground.v1/ingress'), id: 'io.statefun.playground/ingress', port: 8090, host: '127.0.0.1', maxBodyBytes: 1024 * 1024 },
        ],
        egresses: [
          { kind: 'playground', source: source(3, 'io.statefun.playground.v1/egress'), id: 'io.statefun.playground/egress', port: 8091, host: '127.0.0.1', topics: ['greetings'] },
        ],
      });
    });

    it('uses the async transport when an endpoint names none (StateFun 3.3 code, whatever its docs say)', () => {
      // Act
      const [endpoint] = parse(JAVASCRIPT_GREETER).endpoints;

      // Assess
      expect(endpoint.kind === 'http' && endpoint.transport.type).toBe('io.statefun.transports.v1/async');
      expect(endpoint.timeouts).toEqual({ callMs: 120_000, connectMs: 20_000, readMs: 120_000, writeMs: 120_000 });
    });

    it('reads the playground java/showcase module: a day-long call, a Kafka ingress and egress', () => {
      // Act
      const module = parse(JAVA_SHOWCASE);

      // Assess
      expect(module.endpoints[0].timeouts.callMs).toBe(86_400_000);
      expect(module.ingresses).toEqual([
        {
          kind: 'kafka',
          source: source(2, KAFKA_IN),
          id: 'java.showcase.io/user-logins',
          address: 'kafka:9092',
          consumerGroupId: 'java.showcase.greeter',
          topics: [
            {
              name: 'user-logins',
              valueType: 'java.showcase.types/org.apache.flink.statefun.playground.java.showcase.part1.types.UserLogin',
              targets: ['java.showcase.fns/user'],
            },
          ],
          startupPosition: { type: 'earliest' },
          autoOffsetResetPosition: 'latest',
          properties: {},
        },
      ]);
      expect(module.egresses).toEqual([
        { kind: 'kafka', source: source(3, KAFKA_OUT), id: 'java.showcase.io/user-greetings', address: 'kafka:9092', deliverySemantic: { type: 'at-least-once' }, properties: {} },
      ]);
    });

    it('reads an exactly-once Kafka egress with its transaction timeout (python/showcase)', () => {
      // Act
      const [egress] = parse(PYTHON_SHOWCASE_EGRESS).egresses;

      // Assess
      expect(egress.kind === 'kafka' && egress.deliverySemantic).toEqual({ type: 'exactly-once', transactionTimeoutMs: 900_000 });
    });

    it('reads v1 endpoints with OkHttp timeouts, and v2 endpoints with the okhttp transport the same way', () => {
      // Act
      const v1 = parse(BINDER_V1).endpoints[0];
      const v2 = parse(BINDER_V2_OKHTTP).endpoints[0];

      // Assess
      expect(v1).toEqual({
        kind: 'http',
        source: source(1, 'io.statefun.endpoints.v1/http'),
        functions: { namespace: 'com.foo.bar' },
        urlPathTemplate: 'http://bar.foo.com:8080/functions/{function.name}',
        maxNumBatchRequests: 10_000,
        transport: { type: 'io.statefun.transports.v1/okhttp', payloadMaxBytes: 32 * 1024 * 1024 },
        timeouts: { callMs: 60_000, connectMs: 30_000, readMs: 20_000, writeMs: 10_000 },
      });
      expect({ ...v2, source: undefined }).toEqual({ ...v1, source: undefined });
    });

    it('reads the docs example of v2 transport timeouts as the async transport does: call and connect (10 s default there); read and write have no effect', () => {
      // Act
      const [endpoint] = parse(DOCS_V2).endpoints;

      // Assess
      expect(endpoint.timeouts).toEqual({ callMs: 60_000, connectMs: 10_000, readMs: 60_000, writeMs: 60_000 });
    });

    it('reads every async transport option of the docs', () => {
      // Act
      const [endpoint] = parse(DOCS_V2_ASYNC).endpoints;

      // Assess
      expect(endpoint.kind === 'http' && endpoint.transport).toEqual({ type: 'io.statefun.transports.v1/async', payloadMaxBytes: 33_554_432 });
      expect(endpoint.timeouts).toEqual({ callMs: 120_000, connectMs: 20_000, readMs: 120_000, writeMs: 120_000 });
    });

    it('reads exact function types beside namespaces, and skips empty documents', () => {
      // Act
      const module = parse(
        `${doc(V2, 'functions: shop/cart\nurlPathTemplate: http://cart:8000/\nmaxNumBatchRequests: 1')}---\n${doc(V2, 'functions: shop/*\nurlPathTemplate: http://shop:8000/{function.name}')}---\n`,
      );

      // Assess
      expect(module.endpoints.map((e) => [e.functions, e.maxNumBatchRequests, e.source.document])).toEqual([
        [{ namespace: 'shop', name: 'cart' }, 1, 1],
        [{ namespace: 'shop' }, 1000, 2],
      ]);
    });

    it('reads a Kinesis ingress: region, credentials, startup position, streams fanned out to targets, client properties', () => {
      // Act
      const [ingress] = parse(KINESIS_INGRESS).ingresses;

      // Assess
      expect(ingress).toEqual({
        kind: 'kinesis',
        source: source(1, KINESIS_IN),
        id: 'com.foo.bar/test-ingress',
        awsRegion: 'us-west-2',
        awsCredentials: { type: 'basic', accessKeyId: 'my_access_key_id', secretAccessKey: 'my_secret_access_key' },
        clientConfigProperties: { SocketTimeout: '9999', MaxConnections: '15' },
        streams: [
          { name: 'stream-1', valueType: 'com.googleapis/com.mycomp.foo.MessageA', targets: ['com.mycomp.foo/function-1', 'com.mycomp.foo/function-2'] },
          { name: 'topic-2', valueType: 'com.googleapis/com.mycomp.foo.MessageB', targets: ['com.mycomp.foo/function-2'] },
        ],
        startupPosition: { type: 'earliest' },
      });
    });

    it('gives a Kinesis ingress StateFun defaults: latest, the default region and credentials', () => {
      // Act
      const [ingress] = parse(doc(KINESIS_IN, 'id: shop/clicks\nstreams:\n  - stream: clicks\n    valueType: shop/Click\n    targets: [shop/session]')).ingresses;

      // Assess
      expect(ingress).toEqual({
        kind: 'kinesis',
        source: source(1, KINESIS_IN),
        id: 'shop/clicks',
        awsCredentials: { type: 'default' },
        clientConfigProperties: {},
        streams: [{ name: 'clicks', valueType: 'shop/Click', targets: ['shop/session'] }],
        startupPosition: { type: 'latest' },
      });
    });

    it('reads a Kinesis ingress starting at a date', () => {
      // Act
      const [ingress] = parse(
        doc(KINESIS_IN, 'id: shop/clicks\nstartupPosition:\n  type: date\n  date: 2020-02-01 04:15:00.000 -0700\nstreams:\n  - stream: clicks\n    valueType: shop/Click\n    targets: [shop/session]'),
      ).ingresses;

      // Assess
      expect(ingress.kind === 'kinesis' && ingress.startupPosition).toEqual({ type: 'date', date: new Date('2020-02-01T11:15:00.000Z') });
    });

    it('reads a Kinesis egress: custom endpoint, profile credentials, outstanding records', () => {
      // Act
      const [egress] = parse(KINESIS_EGRESS).egresses;

      // Assess
      expect(egress).toEqual({
        kind: 'kinesis',
        source: source(1, 'io.statefun.kinesis.v1/egress'),
        id: 'com.foo.bar/test-egress',
        awsRegion: 'us-west-1',
        awsEndpoint: 'https://localhost:4567',
        awsCredentials: { type: 'profile', profileName: 'john-doe', profilePath: '/path/to/profile/config' },
        clientConfigProperties: { ThreadingModel: 'POOLED', ThreadPoolSize: '10' },
        maxOutstandingRecords: 9999,
      });
      expect(parse(doc('io.statefun.kinesis.v1/egress', 'id: shop/out')).egresses[0]).toMatchObject({ maxOutstandingRecords: 1000, awsCredentials: { type: 'default' } });
    });

    it('reads a Kafka ingress: topics with targets, reset position, properties', () => {
      // Act
      const [ingress] = parse(KAFKA_INGRESS).ingresses;

      // Assess
      expect(ingress).toEqual({
        kind: 'kafka',
        source: source(1, KAFKA_IN),
        id: 'com.foo.bar/test-ingress',
        address: 'kafka-broker:9092',
        consumerGroupId: 'my-group-id',
        topics: [
          { name: 'topic-1', valueType: 'com.googleapis/com.mycomp.foo.MessageA', targets: ['com.mycomp.foo/function-1', 'com.mycomp.foo/function-2'] },
          { name: 'topic-2', valueType: 'com.googleapis/com.mycomp.foo.MessageB', targets: ['com.mycomp.foo/function-2'] },
        ],
        startupPosition: { type: 'earliest' },
        autoOffsetResetPosition: 'earliest',
        properties: { 'foo.config': 'bar' },
      });
    });

    it('takes a Kafka address and group from bootstrap.servers and group.id, and reads specific offsets and group offsets', () => {
      // Prepare
      const topics = 'topics:\n  - topic: names\n    valueType: example/Name\n    targets: [example/greeter]';

      // Act
      const [offsets] = parse(
        doc(KAFKA_IN, `id: example/in\n${topics}\nautoOffsetResetPosition: EARLIEST\nstartupPosition:\n  type: specific-offsets\n  offsets:\n    - names/0: 91\n    - names/1: 11\nproperties:\n  - bootstrap.servers: kafka:9092\n  - group.id: greeters`),
      ).ingresses;
      const [group] = parse(doc(KAFKA_IN, `id: example/in\naddress: kafka:9092\nconsumerGroupId: g\n${topics}\nstartupPosition:\n  type: group-offsets`)).ingresses;

      // Assess
      expect(offsets).toMatchObject({
        address: 'kafka:9092',
        consumerGroupId: 'greeters',
        autoOffsetResetPosition: 'earliest',
        startupPosition: { type: 'specific-offsets', offsets: { 'names/0': 91, 'names/1': 11 } },
      });
      expect(group.kind === 'kafka' && group.startupPosition).toEqual({ type: 'group-offsets' });
    });

    it('reads our Lambda kind, {function.name} kept for the resolver', () => {
      // Act
      const [endpoint] = parse(LAMBDA).endpoints;

      // Assess
      expect(endpoint).toEqual({
        kind: 'lambda',
        source: source(1, 'com.statefun-aws.endpoints.v1/lambda'),
        functions: { namespace: 'shop' },
        functionNameTemplate: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-{function.name}',
        maxNumBatchRequests: 50,
        timeouts: { callMs: 120_000, connectMs: 10_000, readMs: 40_000, writeMs: 10_000 },
      });
    });

    it('reads YAML 1.1 merge keys within a document, as StateFun\'s SnakeYAML does', () => {
      // Act
      const [endpoint] = parse('kind: io.statefun.endpoints.v2/http\nspec:\n  <<: &base\n    urlPathTemplate: http://f:8000/\n    maxNumBatchRequests: 7\n  functions: a/*\n').endpoints;

      // Assess
      expect(endpoint).toMatchObject({ functions: { namespace: 'a' }, urlPathTemplate: 'http://f:8000/', maxNumBatchRequests: 7 });
    });

    it('reads the playground host, body limit and port 0 (any free port)', () => {
      // Act
      const module = parse(`${doc('io.statefun.playground.v1/ingress', 'port: 0\nhost: 0.0.0.0\nmaxBodyBytes: 4096')}---\n${doc('io.statefun.playground.v1/egress', 'port: 0\ntopics: [a, b]')}`);

      // Assess
      expect(module.ingresses[0]).toMatchObject({ port: 0, host: '0.0.0.0', maxBodyBytes: 4096 });
      expect(module.egresses[0]).toMatchObject({ port: 0, host: '127.0.0.1', topics: ['a', 'b'] });
    });
  });

  describe('the legacy version "3.0" format', () => {
    it('reads endpoints, ingresses and egresses as StateFun does, meta.id moving into the spec', () => {
      // Act
      const module = parse(LEGACY_V3_0);

      // Assess
      expect(module.endpoints).toEqual([
        {
          kind: 'http',
          source: source(1, 'io.statefun.endpoints.v1/http'),
          functions: { namespace: 'com.foo.bar' },
          urlPathTemplate: 'http://bar.foo.com:8080/functions/{function.name}',
          maxNumBatchRequests: 10_000,
          transport: { type: 'io.statefun.transports.v1/okhttp', payloadMaxBytes: 32 * 1024 * 1024 },
          timeouts: { callMs: 60_000, connectMs: 10_000, readMs: 10_000, writeMs: 10_000 },
        },
      ]);
      expect(module.ingresses).toEqual([
        {
          kind: 'kinesis',
          source: source(1, KINESIS_IN),
          id: 'com.mycomp.igal/names',
          awsRegion: 'eu-west-1',
          awsCredentials: { type: 'default' },
          clientConfigProperties: {},
          streams: [{ name: 'names', valueType: 'com.mycomp.igal/Name', targets: ['com.foo.bar/greeter'] }],
          startupPosition: { type: 'latest' },
        },
      ]);
      expect(module.egresses).toEqual([
        {
          kind: 'kafka',
          source: source(1, KAFKA_OUT),
          id: 'com.mycomp.foo/bar',
          address: 'kafka-broker:9092',
          deliverySemantic: { type: 'exactly-once', transactionTimeoutMs: 100_000 },
          properties: { 'foo.config': 'bar' },
        },
      ]);
    });

    it('takes a kind: name in place of a legacy one', () => {
      // Act
      const module = parse(
        'version: "3.0"\nmodule:\n  meta:\n    type: REMOTE\n  spec:\n    endpoints:\n      - endpoint:\n          meta:\n            kind: io.statefun.endpoints.v2/http\n          spec:\n            functions: a/*\n            urlPathTemplate: http://a:1/\n',
      );

      // Assess
      expect(module.endpoints[0].source.kind).toBe(V2);
    });
  });

  describe('malformed input', () => {
    it.each([
      ['YAML that does not parse', 'kind: [a, b\nspec: {}', 'module.yaml, line 2, column 1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
      ['a nested mapping on one line', 'kind: a\nspec: b: c', 'module.yaml, line 2, column 7: invalid YAML: Nested mappings are not allowed in compact mappings'],
      ['a key given twice', 'kind: a\nkind: b\nspec: {}', 'module.yaml, line 2, column 1: invalid YAML: Map keys must be unique'],
      ['an alias to another document\'s anchor', `${doc(V2, 'functions: a/*\nurlPathTemplate: &url http://f/')}---\n${doc(V2, 'functions: b/*\nurlPathTemplate: *url')}`, 'module.yaml, document 2: invalid YAML: Unresolved alias (the anchor must be set before the alias): url'],
    ])('names the file and where in it of %s', (_, text, message) => {
      expect(parseError(text)).toBe(message);
    });

    it.each([
      ['an empty file', ''],
      ['a file of comments', '# nothing here\n'],
      ['a file of empty documents', '---\n---\n'],
    ])('refuses %s', (_, text) => {
      expect(parseError(text)).toBe(
        'module.yaml: no documents: expected at least one component document, e.g.\nkind: io.statefun.endpoints.v2/http\nspec:\n  functions: example/*\n  urlPathTemplate: http://functions:8000/statefun',
      );
    });

    it.each([
      ['an unknown kind, never ignored', 'kind: io.statefun.endpoints.v3/http\nspec: {}', 'module.yaml, document 1: kind: unknown kind "io.statefun.endpoints.v3/http": expected one of io.statefun.endpoints.v2/http, io.statefun.endpoints.v1/http, com.statefun-aws.endpoints.v1/lambda, io.statefun.kinesis.v1/ingress, io.statefun.kafka.v1/ingress, io.statefun.playground.v1/ingress, io.statefun.kinesis.v1/egress, io.statefun.kafka.v1/egress, io.statefun.playground.v1/egress'],
      ['a document without kind', 'spec: {}', 'module.yaml, document 1: kind: missing: expected a kind, one of io.statefun.endpoints.v2/http, io.statefun.endpoints.v1/http, com.statefun-aws.endpoints.v1/lambda, io.statefun.kinesis.v1/ingress, io.statefun.kafka.v1/ingress, io.statefun.playground.v1/ingress, io.statefun.kinesis.v1/egress, io.statefun.kafka.v1/egress, io.statefun.playground.v1/egress'],
      ['a document without spec', 'kind: io.statefun.playground.v1/ingress', 'module.yaml, document 1 (io.statefun.playground.v1/ingress): spec: missing: expected the spec of the component, a mapping'],
      ['a document that is a list', '- kind: a', 'module.yaml, document 1: expected a mapping with kind and spec, e.g.\nkind: io.statefun.endpoints.v2/http\nspec:\n  functions: example/*\n  urlPathTemplate: http://functions:8000/statefun, got a list'],
      ['a field beside kind and spec', 'kind: io.statefun.playground.v1/ingress\nspec: {}\nmeta: {}', 'module.yaml, document 1: meta: unknown field: expected one of kind, spec'],
      ['a version: "3.0" document among others', `version: "3.0"\n---\n${PYTHON_GREETER}`, 'module.yaml, document 1: version: the legacy format (version: "3.0") must be the only document of the file: expected kind and spec here'],
    ])('refuses %s', (_, text, message) => {
      expect(parseError(text)).toBe(message);
    });

    const http = (spec: string) => parseError(`${PYTHON_GREETER}---\n${doc(V2, spec)}`);
    const at = 'module.yaml, document 4 (io.statefun.endpoints.v2/http): ';
    const url = 'urlPathTemplate: http://f:8000/{function.name}';
    it.each([
      ['a missing functions', url, 'spec.functions: missing: expected "namespace/name" or "namespace/*" with letters, digits, ".", "_" or "-" in each part, e.g. "example/*"'],
      ['a function pattern with two slashes', `functions: example/*/x\n${url}`, 'spec.functions: expected "namespace/name" or "namespace/*" with letters, digits, ".", "_" or "-" in each part, e.g. "example/*", got "example/*/x"'],
      ['a wildcard namespace', `functions: "*/greeter"\n${url}`, 'spec.functions: expected "namespace/name" or "namespace/*" with letters, digits, ".", "_" or "-" in each part, e.g. "example/*", got "*/greeter"'],
      ['a function pattern without namespace', `functions: greeter\n${url}`, 'spec.functions: expected "namespace/name" or "namespace/*" with letters, digits, ".", "_" or "-" in each part, e.g. "example/*", got "greeter"'],
      ['a list of functions', `functions: [shop/a, shop/b]\n${url}`, 'spec.functions: expected "namespace/name" or "namespace/*" with letters, digits, ".", "_" or "-" in each part, e.g. "example/*", got a list'],
      ['a missing urlPathTemplate', 'functions: shop/*', 'spec.urlPathTemplate: missing: expected an http:// or https:// URL, with {function.name} where the function type\'s name goes, e.g. "http://functions:8000/{function.name}"'],
      ['an ftp URL', 'functions: shop/*\nurlPathTemplate: ftp://f/{function.name}', 'spec.urlPathTemplate: expected an http:// or https:// URL, with {function.name} where the function type\'s name goes, e.g. "http://functions:8000/{function.name}", got "ftp://f/{function.name}"'],
      ['a relative URL', 'functions: shop/*\nurlPathTemplate: /statefun', 'spec.urlPathTemplate: expected an http:// or https:// URL, with {function.name} where the function type\'s name goes, e.g. "http://functions:8000/{function.name}", got "/statefun"'],
      ['a UNIX domain socket', 'functions: shop/*\nurlPathTemplate: http+unix:///uds.sock/path', 'spec.urlPathTemplate: http+unix (a UNIX domain socket) is not supported: expected an http:// or https:// URL, with {function.name} where the function type\'s name goes, e.g. "http://functions:8000/{function.name}"'],
      ['a misspelt field', `functions: shop/*\n${url}\nmaxNumBatchRequest: 10`, 'spec.maxNumBatchRequest: unknown field: expected one of functions, urlPathTemplate, maxNumBatchRequests, transport'],
      ['timeouts beside transport (StateFun ignores them there)', `functions: shop/*\n${url}\ntimeouts:\n  call: 1 min`, 'spec.timeouts: not a field of io.statefun.endpoints.v2/http (StateFun ignores it there): move it under spec.transport, as spec.transport.timeouts'],
      ['a zero maxNumBatchRequests', `functions: shop/*\n${url}\nmaxNumBatchRequests: 0`, 'spec.maxNumBatchRequests: expected a whole number of invocations per request, at least 1, e.g. 1000, got 0'],
      ['a fractional maxNumBatchRequests', `functions: shop/*\n${url}\nmaxNumBatchRequests: 1.5`, 'spec.maxNumBatchRequests: expected a whole number of invocations per request, at least 1, e.g. 1000, got 1.5'],
      ['a word for maxNumBatchRequests', `functions: shop/*\n${url}\nmaxNumBatchRequests: many`, 'spec.maxNumBatchRequests: expected a whole number of invocations per request, at least 1, e.g. 1000, got "many"'],
      ['an unknown transport', `functions: shop/*\n${url}\ntransport:\n  type: io.statefun.transports.v1/grpc`, 'spec.transport.type: expected a transport type: one of io.statefun.transports.v1/async, io.statefun.transports.v1/okhttp, got "io.statefun.transports.v1/grpc"'],
      ['a transport that is not a mapping', `functions: shop/*\n${url}\ntransport: async`, 'spec.transport: expected a mapping, got "async"'],
      ['a duration in words', `functions: shop/*\n${url}\ntransport:\n  timeouts:\n    call: soon`, 'spec.transport.timeouts.call: expected a duration like "1 min" or "30s", got "soon"'],
      ['an unknown time unit', `functions: shop/*\n${url}\ntransport:\n  call: 1 fortnight`, 'spec.transport.call: expected a duration like "1 min" or "30s", got "1 fortnight"'],
      ['a negative duration', `functions: shop/*\n${url}\ntransport:\n  connect: -5s`, 'spec.transport.connect: expected a duration like "1 min" or "30s", got "-5s"'],
      ['a fractional duration', `functions: shop/*\n${url}\ntransport:\n  call: 1.5 min`, 'spec.transport.call: expected a duration like "1 min" or "30s", got "1.5 min"'],
      ['a zero call timeout', `functions: shop/*\n${url}\ntransport:\n  call: 0s`, 'spec.transport.call: expected a duration like "1 min" or "30s", longer than 0, got "0s"'],
      ['call given twice', `functions: shop/*\n${url}\ntransport:\n  call: 1 min\n  timeouts:\n    call: 2 min`, 'spec.transport.call: given twice: expected either spec.transport.call and .connect, or spec.transport.timeouts, not both'],
      ['an OkHttp read timeout longer than the call', `functions: shop/*\n${url}\ntransport:\n  type: io.statefun.transports.v1/okhttp\n  timeouts:\n    call: 5s\n    read: 6s`, 'spec.transport.timeouts.read: expected a duration no longer than spec.transport.timeouts.call (5000 ms), got "6s"'],
      ['an async option under okhttp', `functions: shop/*\n${url}\ntransport:\n  type: io.statefun.transports.v1/okhttp\n  pool_size: 8`, 'spec.transport.pool_size: unknown field: expected one of type, timeouts'],
      ['a TLS option', `functions: shop/*\n${url}\ntransport:\n  client_cert: classpath:client.crt`, 'spec.transport.client_cert: not supported: the runtime calls functions with Node.js fetch, which trusts the system CAs plus those in NODE_EXTRA_CA_CERTS (set that for a private CA); client certificates (mutual TLS) are not supported, authenticate with a header instead'],
      ['a negative payload limit', `functions: shop/*\n${url}\ntransport:\n  payload_max_bytes: -1`, 'spec.transport.payload_max_bytes: expected a whole number of bytes, at least 1, got -1'],
      ['a second endpoint for a namespace', `functions: example/*\n${url}`, 'spec.functions: "example/*" is already served by the endpoint of document 1: expected each function type or namespace in one endpoint'],
    ])('refuses %s, naming the document, its kind and the field', (_, spec, message) => {
      expect(http(spec)).toBe(`${at}${message}`);
    });

    it('refuses two endpoints for one exact type', () => {
      expect(parseError(`${doc(V2, 'functions: a/b\nurlPathTemplate: http://x/')}---\n${doc('io.statefun.endpoints.v1/http', 'functions: a/b\nurlPathTemplate: http://y/')}`)).toBe(
        'module.yaml, document 2 (io.statefun.endpoints.v1/http): spec.functions: "a/b" is already served by the endpoint of document 1: expected each function type or namespace in one endpoint',
      );
    });

    it('refuses a bad Lambda function name', () => {
      expect(parseError(doc('com.statefun-aws.endpoints.v1/lambda', 'functions: shop/*\nfunctionName: "shop {function.name}"'))).toBe(
        'module.yaml, document 1 (com.statefun-aws.endpoints.v1/lambda): spec.functionName: expected a Lambda function name or ARN, with {function.name} where the function type\'s name goes, e.g. "shop-{function.name}" or "arn:aws:lambda:eu-west-1:123456789012:function:shop", got "shop {function.name}"',
      );
    });

    const streams = 'streams:\n  - stream: clicks\n    valueType: shop/Click\n    targets: [shop/session]';
    it.each([
      ['a missing id', streams, 'spec.id: missing: expected "namespace/name" with letters, digits, ".", "_" or "-" in each part, e.g. "example/names"'],
      ['an id without namespace', `id: clicks\n${streams}`, 'spec.id: expected "namespace/name" with letters, digits, ".", "_" or "-" in each part, e.g. "example/names", got "clicks"'],
      ['missing streams', 'id: shop/in', 'spec.streams: missing: expected a list of streams, each with stream, valueType and targets'],
      ['an empty list of streams', 'id: shop/in\nstreams: []', 'spec.streams: expected a list of streams, each with stream, valueType and targets, got an empty list'],
      ['a stream without valueType (StateFun requires it)', 'id: shop/in\nstreams:\n  - stream: clicks\n    targets: [shop/session]', 'spec.streams[0].valueType: missing: expected a type name "namespace/name", e.g. "io.statefun.types/string" or "example/GreetRequest"'],
      ['a stream without targets', 'id: shop/in\nstreams:\n  - stream: clicks\n    valueType: shop/Click\n    targets: []', 'spec.streams[0].targets: expected a list of function types, e.g. "- example/greeter", got an empty list'],
      ['a target that is no function type', 'id: shop/in\nstreams:\n  - stream: clicks\n    valueType: shop/Click\n    targets: [shop/*]', 'spec.streams[0].targets[0]: expected a function type "namespace/name" with letters, digits, ".", "_" or "-" in each part, e.g. "example/greeter", got "shop/*"'],
      ['a stream listed twice', `id: shop/in\n${streams}\n  - stream: clicks\n    valueType: shop/Click\n    targets: [shop/other]`, 'spec.streams[1].stream: stream "clicks" is listed twice: expected each stream once, with all its targets'],
      ['a Kafka-only startup position', `id: shop/in\n${streams}\nstartupPosition:\n  type: group-offsets`, 'spec.startupPosition.type: expected a startup position type: one of earliest, latest, date, got "group-offsets"'],
      ['a date in another format', `id: shop/in\n${streams}\nstartupPosition:\n  type: date\n  date: 2020-02-01T04:15:00Z`, 'spec.startupPosition.date: expected a date "yyyy-MM-dd HH:mm:ss.SSS Z", e.g. "2020-02-01 04:15:00.000 +0000", got "2020-02-01T04:15:00Z"'],
      ['an impossible date', `id: shop/in\n${streams}\nstartupPosition:\n  type: date\n  date: 2020-02-30 04:15:00.000 +0000`, 'spec.startupPosition.date: expected a date "yyyy-MM-dd HH:mm:ss.SSS Z", e.g. "2020-02-01 04:15:00.000 +0000", got "2020-02-30 04:15:00.000 +0000"'],
      ['an unknown region type', `id: shop/in\n${streams}\nawsRegion:\n  type: nearest`, 'spec.awsRegion.type: expected an AWS region type: one of default, specific, custom-endpoint, got "nearest"'],
      ['a bad region id', `id: shop/in\n${streams}\nawsRegion:\n  type: specific\n  id: Ireland`, 'spec.awsRegion.id: expected an AWS region id, e.g. "us-west-2", got "Ireland"'],
      ['basic credentials without a secret', `id: shop/in\n${streams}\nawsCredentials:\n  type: basic\n  accessKeyId: AKIA`, 'spec.awsCredentials.secretAccessKey: missing: expected a secret access key'],
      ['client properties as a mapping', `id: shop/in\n${streams}\nclientConfigProperties:\n  SocketTimeout: 9999`, 'spec.clientConfigProperties: expected a list of one-key mappings, e.g. "- foo.config: bar", got a mapping'],
      ['a client property with two keys', `id: shop/in\n${streams}\nclientConfigProperties:\n  - SocketTimeout: 9999\n    MaxConnections: 15`, 'spec.clientConfigProperties[0]: expected a list of one-key mappings, e.g. "- foo.config: bar", got a mapping'],
    ])('refuses a Kinesis ingress with %s', (_, spec, message) => {
      expect(parseError(doc(KINESIS_IN, spec))).toBe(`module.yaml, document 1 (io.statefun.kinesis.v1/ingress): ${message}`);
    });

    const topics = 'topics:\n  - topic: names\n    valueType: example/Name\n    targets: [example/greeter]';
    it.each([
      ['no address', `id: example/in\nconsumerGroupId: g\n${topics}`, 'spec.address: missing: expected Kafka bootstrap servers "host:port[,host:port...]", e.g. "kafka:9092", here or as the bootstrap.servers property'],
      ['an address without port', `id: example/in\naddress: kafka\nconsumerGroupId: g\n${topics}`, 'spec.address: expected Kafka bootstrap servers "host:port[,host:port...]", e.g. "kafka:9092", got "kafka"'],
      ['no consumer group', `id: example/in\naddress: kafka:9092\n${topics}`, 'spec.consumerGroupId: missing: expected a consumer group id, here or as the group.id property'],
      ['a bad reset position', `id: example/in\naddress: kafka:9092\nconsumerGroupId: g\n${topics}\nautoOffsetResetPosition: middle`, 'spec.autoOffsetResetPosition: expected an auto offset reset position: one of earliest, latest (in any case), got "middle"'],
      ['an offset key without partition', `id: example/in\naddress: kafka:9092\nconsumerGroupId: g\n${topics}\nstartupPosition:\n  type: specific-offsets\n  offsets:\n    - names: 91`, 'spec.startupPosition.offsets[0].names: expected a key "<topic>/<partition>" with a whole partition number, e.g. "user-logins/0"'],
      ['a negative offset', `id: example/in\naddress: kafka:9092\nconsumerGroupId: g\n${topics}\nstartupPosition:\n  type: specific-offsets\n  offsets:\n    - names/0: -1`, 'spec.startupPosition.offsets[0].names/0: expected a whole offset, at least 0, got -1'],
    ])('refuses a Kafka ingress with %s', (_, spec, message) => {
      expect(parseError(doc(KAFKA_IN, spec))).toBe(`module.yaml, document 1 (io.statefun.kafka.v1/ingress): ${message}`);
    });

    it.each([
      ['exactly-once without a transaction timeout', 'id: example/out\naddress: kafka:9092\ndeliverySemantic:\n  type: exactly-once', 'spec.deliverySemantic.transactionTimeout: missing: expected a duration like "15 min", the Kafka transaction timeout that exactly-once needs'],
      ['an unknown delivery semantic', 'id: example/out\naddress: kafka:9092\ndeliverySemantic:\n  type: at-most-once', 'spec.deliverySemantic.type: expected a delivery semantic: one of at-least-once, exactly-once, none, got "at-most-once"'],
      ['a property with a list value', 'id: example/out\naddress: kafka:9092\nproperties:\n  - acks: [all]', 'spec.properties[0].acks: expected a string, number or boolean value, got a list'],
      ['a property given twice', 'id: example/out\naddress: kafka:9092\nproperties:\n  - acks: all\n  - acks: 1', 'spec.properties[1].acks: property "acks" is given twice: expected each property once'],
    ])('refuses a Kafka egress with %s', (_, spec, message) => {
      expect(parseError(doc(KAFKA_OUT, spec))).toBe(`module.yaml, document 1 (io.statefun.kafka.v1/egress): ${message}`);
    });

    it.each([
      ['ingress', 'port: 70000', 'spec.port: expected a TCP port from 1 to 65535, or 0 for any free port, got 70000'],
      ['ingress', 'maxBodyBytes: 0', 'spec.maxBodyBytes: expected a whole number of bytes, at least 1, got 0'],
      ['ingress', 'host: ""', 'spec.host: expected a host name or IP address to listen on, e.g. "0.0.0.0", got ""'],
      ['egress', 'port: 8091', 'spec.topics: missing: expected a list of topic names, e.g. "- greetings"'],
      ['egress', 'topics: [a, a]', 'spec.topics[1]: topic "a" is listed twice: expected each topic once'],
    ])('refuses a playground %s with %s', (part, spec, message) => {
      expect(parseError(doc(`io.statefun.playground.v1/${part}`, spec))).toBe(`module.yaml, document 1 (io.statefun.playground.v1/${part}): ${message}`);
    });

    it('refuses duplicate ingress and egress ids, a second playground ingress, and playground servers on one port', () => {
      // Prepare
      const kinesis = doc(KINESIS_IN, 'id: shop/in\nstreams:\n  - stream: a\n    valueType: shop/A\n    targets: [shop/f]');
      const egress = doc('io.statefun.kinesis.v1/egress', 'id: shop/out');

      // Act & Assess
      expect(parseError(`${kinesis}---\n${kinesis}`)).toBe(
        'module.yaml, document 2 (io.statefun.kinesis.v1/ingress): spec.id: ingress id "shop/in" is already declared by document 1: expected each ingress id once (a module has at most one playground ingress)',
      );
      expect(parseError(`${egress}---\n${doc(KAFKA_OUT, 'id: shop/out\naddress: k:9092')}`)).toBe(
        'module.yaml, document 2 (io.statefun.kafka.v1/egress): spec.id: egress id "shop/out" is already declared by document 1: expected each egress id once (a module has at most one playground egress)',
      );
      expect(parseError(`${PYTHON_GREETER}---\n${doc('io.statefun.playground.v1/ingress', 'port: 9000')}`)).toBe(
        'module.yaml, document 4 (io.statefun.playground.v1/ingress): kind: ingress id "io.statefun.playground/ingress" is already declared by document 2: expected each ingress id once (a module has at most one playground ingress)',
      );
      expect(parseError(`${doc('io.statefun.playground.v1/ingress', 'port: 8091')}---\n${doc('io.statefun.playground.v1/egress', 'topics: [a]')}`)).toBe(
        'module.yaml, document 2 (io.statefun.playground.v1/egress): spec.port: port 8091 on 127.0.0.1 is already the one of io.statefun.playground.v1/ingress (document 1): expected another port',
      );
    });

    it.each([
      ['an old version', 'version: "2.0"\nmodule: {}', 'module.yaml, document 1: version: format version 2.0 is not supported (nor by StateFun 3.x): expected "3.0", or the kind:/spec: format'],
      ['a version that is a number', 'version: 3.0\nmodule: {}', 'module.yaml, document 1: version: expected "3.0" as a string, in quotes, got 3'],
      ['a version StateFun never had', 'version: "3.1"\nmodule: {}', 'module.yaml, document 1: version: expected "3.0", got "3.1"'],
      ['no module', 'version: "3.0"', 'module.yaml, document 1: module: missing: expected a mapping with meta and spec'],
      ['a module without components', 'version: "3.0"\nmodule:\n  meta:\n    type: remote\n  spec: {}', 'module.yaml, document 1: module.spec: expected at least one of endpoints, ingresses and egresses, got none'],
      ['a module without spec', 'version: "3.0"\nmodule:\n  meta:\n    type: remote', 'module.yaml, document 1: module.spec: missing: expected a mapping with endpoints, ingresses and egresses'],
      ['an embedded module', 'version: "3.0"\nmodule:\n  meta:\n    type: embedded\n  spec: {}', 'module.yaml, document 1: module.meta.type: expected "remote", got "embedded"'],
      [
        'a legacy kind StateFun 3 dropped',
        'version: "3.0"\nmodule:\n  meta:\n    type: remote\n  spec:\n    ingresses:\n      - ingress:\n          meta:\n            type: statefun.kafka.io/protobuf-ingress\n            id: a/b\n          spec: {}',
        'module.yaml, document 1: module.spec.ingresses[0].ingress.meta.type: unknown kind "statefun.kafka.io/protobuf-ingress": expected one of http, io.statefun.kafka/ingress, io.statefun.kafka/egress, io.statefun.kinesis/ingress, io.statefun.kinesis/egress, io.statefun.endpoints.v2/http, io.statefun.endpoints.v1/http, com.statefun-aws.endpoints.v1/lambda, io.statefun.kinesis.v1/ingress, io.statefun.kafka.v1/ingress, io.statefun.playground.v1/ingress, io.statefun.kinesis.v1/egress, io.statefun.kafka.v1/egress, io.statefun.playground.v1/egress',
      ],
      [
        'a bad field in a legacy spec',
        'version: "3.0"\nmodule:\n  meta:\n    type: remote\n  spec:\n    endpoints:\n      - endpoint:\n          meta:\n            kind: http\n          spec:\n            functions: a/*\n            urlPathTemplate: http://a/\n            timeouts:\n              call: never',
        'module.yaml, document 1 (io.statefun.endpoints.v1/http): module.spec.endpoints[0].endpoint.spec.timeouts.call: expected a duration like "1 min" or "30s", got "never"',
      ],
      [
        'a bad legacy meta.id',
        'version: "3.0"\nmodule:\n  meta:\n    type: remote\n  spec:\n    egresses:\n      - egress:\n          meta:\n            type: io.statefun.kinesis/egress\n            id: out\n          spec: {}',
        'module.yaml, document 1 (io.statefun.kinesis.v1/egress): module.spec.egresses[0].egress.meta.id: expected "namespace/name" with letters, digits, ".", "_" or "-" in each part, e.g. "example/names", got "out"',
      ],
    ])('refuses a legacy module with %s', (_, text, message) => {
      expect(parseError(text)).toBe(message);
    });
  });
});

describe('Function: readModuleFile', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'module-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file, naming it in errors as given', () => {
    // Prepare
    const good = join(dir, 'module.yaml');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(good, PYTHON_GREETER);
    writeFileSync(bad, 'kind: io.statefun.playground.v1/ingress\nspec:\n  port: eighty');

    // Act & Assess
    expect(readModuleFile(good)).toEqual(parseModule(PYTHON_GREETER, good));
    expect(() => readModuleFile(bad)).toThrow(
      new InvalidInputError(`${bad}, document 1 (io.statefun.playground.v1/ingress): spec.port: expected a TCP port from 1 to 65535, or 0 for any free port, got "eighty"`),
    );
  });

  it('says which file cannot be read and why', () => {
    // Prepare
    const missing = join(dir, 'absent.yaml');

    // Act
    let error: unknown;
    try {
      readModuleFile(missing);
    } catch (thrown) {
      error = thrown;
    }

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe(`${missing}: cannot read the module file (ENOENT): expected a readable module.yaml`);
  });
});
