/*
 * The conformance functions written with the official StateFun JavaScript SDK
 * (npm apache-flink-statefun 3.3.0), served as its docs do: node:http with
 * StateFun#handler(). One path per function type, each with its own StateFun instance, so
 * the module's `{function.name}` template is what routes a call. Contract:
 * docs/statefun-compatibility.md, "Conformance".
 *
 * Run: node test/conformance/sdks/js/server.js; prints `listening on 127.0.0.1:<port>`.
 */
'use strict';
const http = require('node:http');
require('apache-flink-statefun/dist/generated/types_pb');
const { StateFun, messageBuilder, egressMessageBuilder, kafkaEgressMessage, kinesisEgressMessage } = require('apache-flink-statefun');

const OUT = 'conformance/out';
const show = (value) => (value === null || value === undefined ? '-' : String(value));
const address = (a) => `${a.namespace}/${a.name}/${a.id}`;

// The SDK has no long or double type (types.js leaves them commented out): users declare
// them over the SDK's own generated wrappers, as here.
const wrappers = globalThis.proto.io.statefun.sdk.types;
const longType = StateFun.protoType('io.statefun.types/long', wrappers.LongWrapper);
const doubleType = StateFun.protoType('io.statefun.types/double', wrappers.DoubleWrapper);

const stringType = StateFun.stringType();
const intType = StateFun.intType();

function store(context, message) {
  const [command, arg] = message.asString().split(' ');
  const s = context.storage;
  switch (command) {
    case 'set': s.value = arg; break;
    case 'del': s.value = null; break;
    case 'setw': s.w = arg; break;
    case 'setc': s.c = arg; break;
    case 'append': s.log = s.log === null ? arg : `${s.log},${arg}`; break;
    case 'noop': break;
    case 'peek':
      context.send(egressMessageBuilder({
        typename: OUT,
        value: `value=${show(s.value)} never=${show(s.never)} w=${show(s.w)} c=${show(s.c)} log=${show(s.log)}`,
        valueType: stringType,
      }));
      break;
    case 'fail': throw new Error('conformance: fail requested');
    default: throw new Error(`${address(context.self)}: unknown command ${command}`);
  }
}

function relay(type, other) {
  return (context, message) => {
    const words = message.asString().split(' ');
    const self = address(context.self);
    const report = (text) => context.send(egressMessageBuilder({
      typename: OUT, value: `${self} ${text} caller=${context.caller ? address(context.caller) : '-'}`, valueType: stringType,
    }));
    const n = Number(words[1]);
    switch (words[0]) {
      case 'bounce':
        report(`bounce ${n}`);
        if (n > 0) context.send(messageBuilder({ typename: `conformance/${other}`, id: context.self.id, value: `bounce ${n - 1}`, valueType: stringType }));
        break;
      case 'loop':
        report(`loop ${n}`);
        if (n > 0) context.send(messageBuilder({ typename: `conformance/${type}`, id: context.self.id, value: `loop ${n - 1}`, valueType: stringType }));
        break;
      case 'later': {
        const note = messageBuilder({ typename: `conformance/${type}`, id: context.self.id, value: `note ${words[3]}`, valueType: stringType });
        context.sendAfter(n, note, words[2] === '-' ? undefined : words[2]);
        break;
      }
      case 'cancel': context.cancelDelayedMessage(words[1]); break;
      case 'note': report(`note ${words[1]}`); break;
      case 'kafka':
        context.send(kafkaEgressMessage({ typename: 'conformance/kafka', topic: words[1], key: words[2], value: words[3] }));
        break;
      case 'kinesis':
        context.send(kinesisEgressMessage({
          typename: 'conformance/kinesis', stream: words[1], partitionKey: words[2], hashKey: words[3], value: words[4],
        }));
        break;
      default: throw new Error(`conformance/${type}: unknown command ${words[0]}`);
    }
  };
}

function types(context, message) {
  const out = (value, valueType) => context.send(egressMessageBuilder({ typename: OUT, value, valueType }));
  const s = context.storage;
  if (message.isInt()) out((s.int_v = message.asInt() + 1), intType);
  else if (message.is(longType)) {
    const v = message.as(longType);
    v.setValue(v.getValue() + 1);
    out((s.long_v = v), longType);
  } else if (message.isFloat()) out((s.float_v = message.asFloat() * 2), StateFun.floatType());
  else if (message.is(doubleType)) {
    const v = message.as(doubleType);
    v.setValue(v.getValue() * 2);
    out((s.double_v = v), doubleType);
  } else if (message.isBoolean()) out((s.bool_v = !message.asBoolean()), StateFun.booleanType());
  else if (message.isString()) out((s.string_v = `${message.asString()}!`), stringType);
  else throw new Error(`conformance/types: not a built-in type: ${message.valueTypeName}`);
}

const storeSpecs = [
  { name: 'value', type: stringType },
  { name: 'never', type: intType },
  { name: 'w', type: stringType, expireAfterWrite: 60_000 },
  { name: 'c', type: stringType, expireAfterCall: 60_000 },
  { name: 'log', type: stringType },
];

// conformance/faulty is the store function under another type, whose endpoint gives up sooner.
const functions = {
  store: { fn: store, specs: storeSpecs },
  faulty: { fn: store, specs: storeSpecs },
  ping: { fn: relay('ping', 'pong') },
  pong: { fn: relay('pong', 'ping') },
  types: {
    fn: types,
    specs: [
      { name: 'int_v', type: intType },
      { name: 'long_v', type: longType },
      { name: 'float_v', type: StateFun.floatType() },
      { name: 'double_v', type: doubleType },
      { name: 'bool_v', type: StateFun.booleanType() },
      { name: 'string_v', type: stringType },
    ],
  },
};

const handlers = new Map();
for (const [name, { fn, specs }] of Object.entries(functions)) {
  const statefun = new StateFun();
  statefun.bind({ typename: `conformance/${name}`, fn, specs: specs ?? [] });
  handlers.set(`/${name}`, statefun.handler());
}

const server = http.createServer((req, res) => {
  const handler = handlers.get(req.url);
  if (handler) return handler(req, res);
  req.resume();
  res.writeHead(404, { 'content-type': 'text/plain' }).end(`no function is served at ${req.url}\n`);
});
server.listen(0, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`));
