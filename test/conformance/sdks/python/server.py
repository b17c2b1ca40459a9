"""The conformance functions written with the official StateFun Python SDK (PyPI
apache-flink-statefun 3.3.0), served as its docs do: aiohttp with RequestReplyHandler.
One path per function type, each with its own StatefulFunctions, so the module's
{function.name} template is what routes a call. Contract: docs/statefun-compatibility.md, "Conformance".

Run: .venv/bin/python test/conformance/sdks/python/server.py; prints
`listening on 127.0.0.1:<port>`.
"""
import asyncio
import socket
from datetime import timedelta

from aiohttp import web
from statefun import (BoolType, DoubleType, FloatType, IntType, LongType, RequestReplyHandler,
                      StatefulFunctions, StringType, ValueSpec, egress_message_builder,
                      kafka_egress_message, kinesis_egress_message, message_builder)

OUT = "conformance/out"


def show(value):
    return "-" if value is None else str(value)


def address(a):
    return f"{a.namespace}/{a.name}/{a.id}"


def store(context, message):
    command, _, arg = message.as_string().partition(" ")
    s = context.storage
    if command == "set":
        s.value = arg
    elif command == "del":
        del s.value
    elif command == "setw":
        s.w = arg
    elif command == "setc":
        s.c = arg
    elif command == "append":
        s.log = arg if s.log is None else f"{s.log},{arg}"
    elif command == "noop":
        pass
    elif command == "peek":
        context.send_egress(egress_message_builder(
            target_typename=OUT,
            value=f"value={show(s.value)} never={show(s.never)} w={show(s.w)} c={show(s.c)} log={show(s.log)}",
            value_type=StringType))
    elif command == "fail":
        raise RuntimeError("conformance: fail requested")
    else:
        raise ValueError(f"{address(context.address)}: unknown command {command}")


def relay(own, other):
    def fn(context, message):
        words = message.as_string().split(" ")
        me = address(context.address)

        def report(text):
            caller = address(context.caller) if context.caller else "-"
            context.send_egress(egress_message_builder(
                target_typename=OUT, value=f"{me} {text} caller={caller}", value_type=StringType))

        command = words[0]
        if command == "bounce":
            n = int(words[1])
            report(f"bounce {n}")
            if n > 0:
                context.send(message_builder(f"conformance/{other}", context.address.id, str_value=f"bounce {n - 1}"))
        elif command == "loop":
            n = int(words[1])
            report(f"loop {n}")
            if n > 0:
                context.send(message_builder(f"conformance/{own}", context.address.id, str_value=f"loop {n - 1}"))
        elif command == "later":
            note = message_builder(f"conformance/{own}", context.address.id, str_value=f"note {words[3]}")
            delay = timedelta(milliseconds=int(words[1]))
            if words[2] == "-":
                context.send_after(delay, note)
            else:
                context.send_after(delay, note, cancellation_token=words[2])
        elif command == "cancel":
            context.cancel_delayed_message(words[1])
        elif command == "note":
            report(f"note {words[1]}")
        elif command == "kafka":
            context.send_egress(kafka_egress_message(
                typename="conformance/kafka", topic=words[1], key=words[2], value=words[3]))
        elif command == "kinesis":
            context.send_egress(kinesis_egress_message(
                typename="conformance/kinesis", stream=words[1], partition_key=words[2],
                explicit_hash_key=words[3], value=words[4]))
        else:
            raise ValueError(f"conformance/{own}: unknown command {command}")
    return fn


def types(context, message):
    s = context.storage

    def out(value, value_type):
        context.send_egress(egress_message_builder(target_typename=OUT, value=value, value_type=value_type))

    if message.is_int():
        s.int_v = message.as_int() + 1
        out(s.int_v, IntType)
    elif message.is_long():
        s.long_v = message.as_long() + 1
        out(s.long_v, LongType)
    elif message.is_float():
        s.float_v = message.as_float() * 2
        out(s.float_v, FloatType)
    elif message.is_double():
        s.double_v = message.as_double() * 2
        out(s.double_v, DoubleType)
    elif message.is_bool():
        s.bool_v = not message.as_bool()
        out(s.bool_v, BoolType)
    elif message.is_string():
        s.string_v = message.as_string() + "!"
        out(s.string_v, StringType)
    else:
        raise TypeError(f"conformance/types: not a built-in type: {message.value_typename()}")


STORE_SPECS = [
    ValueSpec(name="value", type=StringType),
    ValueSpec(name="never", type=IntType),
    ValueSpec(name="w", type=StringType, expire_after_write=timedelta(seconds=60)),
    ValueSpec(name="c", type=StringType, expire_after_call=timedelta(seconds=60)),
    ValueSpec(name="log", type=StringType),
]

# conformance/faulty is the store function under another type, whose endpoint gives up sooner.
FUNCTIONS = {
    "store": (store, STORE_SPECS),
    "faulty": (store, STORE_SPECS),
    "ping": (relay("ping", "pong"), []),
    "pong": (relay("pong", "ping"), []),
    "types": (types, [
        ValueSpec(name="int_v", type=IntType),
        ValueSpec(name="long_v", type=LongType),
        ValueSpec(name="float_v", type=FloatType),
        ValueSpec(name="double_v", type=DoubleType),
        ValueSpec(name="bool_v", type=BoolType),
        ValueSpec(name="string_v", type=StringType),
    ]),
}


def route(handler):
    async def handle(request):
        req = await request.read()
        res = await handler.handle_async(req)
        return web.Response(body=res, content_type="application/octet-stream")
    return handle


async def main():
    app = web.Application()
    for name, (fn, specs) in FUNCTIONS.items():
        functions = StatefulFunctions()
        functions.register(f"conformance/{name}", fn, specs)
        app.add_routes([web.post(f"/{name}", route(RequestReplyHandler(functions)))])
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    print(f"listening on 127.0.0.1:{sock.getsockname()[1]}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
