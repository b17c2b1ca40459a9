/*
 * The conformance functions written with our TypeScript SDK (runtime-lambda/sdk), served as
 * its users serve it: node:http with createHttpHandler. One path per function type
 * (`/store`, `/ping`, ...), each serving only that type, so the module's
 * `{function.name}` template is what routes a call. The contract every SDK implements is
 * in docs/statefun-compatibility.md, "Conformance".
 *
 * Run: tsx test/conformance/sdks/ts/server.ts; prints `listening on 127.0.0.1:<port>`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Address, defineFunction, egressMessage, kafkaEgressMessage, kinesisEgressMessage, message, StatefulFunctions, Types } from '../../../../runtime-lambda/sdk';
import { createHttpHandler } from '../../../../runtime-lambda/sdk/http';

const OUT = 'conformance/out';
const show = (value: unknown) => (value === null ? '-' : String(value));

/** The store function; also served as conformance/faulty, whose endpoint gives up sooner. */
const store = (typename: string) => defineFunction({
  typename,
  state: {
    value: Types.string,
    never: Types.int,
    w: { type: Types.string, expireAfterWrite: 60_000 },
    c: { type: Types.string, expireAfterCall: 60_000 },
    log: Types.string,
  },
  handle(ctx, msg) {
    const [command, arg] = msg.as(Types.string).split(' ');
    const s = ctx.storage;
    switch (command) {
      case 'set':
        s.value = arg;
        break;
      case 'del':
        s.value = null;
        break;
      case 'setw':
        s.w = arg;
        break;
      case 'setc':
        s.c = arg;
        break;
      case 'append':
        s.log = s.log === null ? arg : `${s.log},${arg}`;
        break;
      case 'noop':
        break;
      case 'peek':
        ctx.egress(
          egressMessage({ egress: OUT, value: `value=${show(s.value)} never=${show(s.never)} w=${show(s.w)} c=${show(s.c)} log=${show(s.log)}`, type: Types.string }),
        );
        break;
      case 'fail':
        throw new Error('conformance: fail requested');
      default:
        throw new Error(`${typename}: unknown command ${command}`);
    }
  },
});

/** ping and pong: the same function under two types, each bouncing to the other. */
function relay(type: 'ping' | 'pong', other: 'ping' | 'pong') {
  return defineFunction({
    typename: `conformance/${type}`,
    handle(ctx, msg) {
      const words = msg.as(Types.string).split(' ');
      const report = (text: string) => ctx.egress(egressMessage({ egress: OUT, value: `${ctx.self} ${text} caller=${ctx.caller ?? '-'}`, type: Types.string }));
      switch (words[0]) {
        case 'bounce': {
          const n = Number(words[1]);
          report(`bounce ${n}`);
          if (n > 0) ctx.send(message({ to: Address.of(`conformance/${other}`, ctx.self.id), value: `bounce ${n - 1}`, type: Types.string }));
          break;
        }
        case 'loop': {
          const n = Number(words[1]);
          report(`loop ${n}`);
          if (n > 0) ctx.send(message({ to: ctx.self, value: `loop ${n - 1}`, type: Types.string }));
          break;
        }
        case 'later': {
          const note = message({ to: ctx.self, value: `note ${words[3]}`, type: Types.string });
          if (words[2] === '-') ctx.sendAfter(Number(words[1]), note);
          else ctx.sendAfter(Number(words[1]), note, words[2]);
          break;
        }
        case 'cancel':
          ctx.cancelDelayedMessage(words[1]);
          break;
        case 'note':
          report(`note ${words[1]}`);
          break;
        case 'kafka':
          ctx.egress(kafkaEgressMessage({ egress: 'conformance/kafka', topic: words[1], key: words[2], value: words[3] }));
          break;
        case 'kinesis':
          ctx.egress(kinesisEgressMessage({ egress: 'conformance/kinesis', stream: words[1], partitionKey: words[2], explicitHashKey: words[3], value: words[4] }));
          break;
        default:
          throw new Error(`conformance/${type}: unknown command ${words[0]}`);
      }
    },
  });
}

const types = defineFunction({
  typename: 'conformance/types',
  state: { int_v: Types.int, long_v: Types.long, float_v: Types.float, double_v: Types.double, bool_v: Types.bool, string_v: Types.string },
  handle(ctx, msg) {
    const out = <T>(value: T, type: Parameters<typeof egressMessage<T>>[0]['type']) => ctx.egress(egressMessage({ egress: OUT, value, type }));
    if (msg.is(Types.int)) out((ctx.storage.int_v = msg.as(Types.int) + 1), Types.int);
    else if (msg.is(Types.long)) out((ctx.storage.long_v = msg.as(Types.long) + 1n), Types.long);
    else if (msg.is(Types.float)) out((ctx.storage.float_v = msg.as(Types.float) * 2), Types.float);
    else if (msg.is(Types.double)) out((ctx.storage.double_v = msg.as(Types.double) * 2), Types.double);
    else if (msg.is(Types.bool)) out((ctx.storage.bool_v = !msg.as(Types.bool)), Types.bool);
    else if (msg.is(Types.string)) out((ctx.storage.string_v = `${msg.as(Types.string)}!`), Types.string);
    else throw new Error(`conformance/types: not a built-in type: ${msg.typename}`);
  },
});

/** One registry per conformance function, by its type's name (`store` for `conformance/store`). */
export function conformanceRegistries(): Map<string, StatefulFunctions> {
  return new Map([
    ['store', new StatefulFunctions().withFunction(store('conformance/store'))],
    ['faulty', new StatefulFunctions().withFunction(store('conformance/faulty'))],
    ['ping', new StatefulFunctions().withFunction(relay('ping', 'pong'))],
    ['pong', new StatefulFunctions().withFunction(relay('pong', 'ping'))],
    ['types', new StatefulFunctions().withFunction(types)],
  ]);
}

/** A node:http server with each registry at `/<name>`, 404 elsewhere. */
export function conformanceServer(registries: ReadonlyMap<string, StatefulFunctions>): Server {
  const handlers = new Map([...registries].map(([name, registry]) => [`/${name}`, createHttpHandler(registry)]));
  return createServer((req, res) => {
    const handler = handlers.get(req.url ?? '');
    if (handler) return handler(req, res);
    req.resume();
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`no function is served at ${req.url}\n`);
  });
}

if (require.main === module) {
  const server = conformanceServer(conformanceRegistries());
  server.listen(0, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${(server.address() as AddressInfo).port}`));
}
