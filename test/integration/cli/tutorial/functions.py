"""
A StateFun tutorial-style application, written with the official Python SDK (PyPI
apache-flink-statefun 3.3.0) exactly as its users write one, for test/integration/cli/
tutorialPython.test.ts:

- example/person counts the visits of a person (state) and messages example/greeter;
- example/greeter writes a greeting to the playground egress, topic "greetings";
- example/lurker reads its state and does nothing else: its batches have no effects, which
  the SDK answers with an empty body.

Served with aiohttp on 127.0.0.1, on the port given as the first argument (0: a free one);
prints "listening <port>" once it accepts requests.
"""
import asyncio
import sys

from aiohttp import web
from statefun import (IntType, RequestReplyHandler, StatefulFunctions, ValueSpec, egress_message_builder,
                      make_json_type, message_builder)

functions = StatefulFunctions()

GREET_REQUEST = make_json_type(typename="example/GreetRequest")
EGRESS_RECORD = make_json_type(typename="io.statefun.playground/EgressRecord")

GREETINGS = ["", "Welcome {}", "Nice to see you again {}", "Third time is a charm {}"]


@functions.bind(typename="example/person", specs=[ValueSpec(name="visits", type=IntType)])
async def person(context, message):
    visits = (context.storage.visits or 0) + 1
    context.storage.visits = visits
    request = message.as_type(GREET_REQUEST)
    request["visits"] = visits
    context.send(message_builder(target_typename="example/greeter", target_id=request["name"],
                                 value=request, value_type=GREET_REQUEST))


@functions.bind(typename="example/greeter")
async def greeter(context, message):
    request = message.as_type(GREET_REQUEST)
    name, visits = request["name"], request["visits"]
    text = GREETINGS[visits].format(name) if visits < len(GREETINGS) else f"Nice to see you at the {visits}-nth time {name}!"
    context.send_egress(egress_message_builder(target_typename="io.statefun.playground/egress",
                                               value={"topic": "greetings", "payload": text},
                                               value_type=EGRESS_RECORD))


@functions.bind(typename="example/lurker", specs=[ValueSpec(name="seen", type=IntType)])
async def lurker(context, message):
    _ = context.storage.seen


handler = RequestReplyHandler(functions)


async def handle(request):
    body = await handler.handle_async(await request.read())
    return web.Response(body=body, content_type="application/octet-stream")


async def main(port):
    app = web.Application()
    app.add_routes([web.post("/statefun", handle)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    print(f"listening {site._server.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
