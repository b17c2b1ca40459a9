"""
StateFun's Python greeter with the official Python SDK (PyPI apache-flink-statefun 3.3.0),
served over HTTP with aiohttp, for module.yaml beside it:

- example/person (id: the name) takes a GreetRequest (JSON {"name": ...}), counts how often
  it has seen the name (state "seen") and sends the name and the count to example/greeter;
- example/greeter (id: the name) writes the greeting to the Kafka egress example/greets,
  topic "greetings", keyed by the name.

Run: python functions.py [port]   (default 8000; 0 picks a free one). Prints "listening <port>"
once it accepts requests.
"""
import asyncio
import sys

from aiohttp import web
from statefun import (IntType, RequestReplyHandler, StatefulFunctions, ValueSpec, kafka_egress_message,
                      make_json_type, message_builder)

functions = StatefulFunctions()

GREET_REQUEST = make_json_type(typename="example/GreetRequest")
SEEN = make_json_type(typename="example/Seen")


@functions.bind(typename="example/person", specs=[ValueSpec(name="seen", type=IntType)])
async def person(context, message):
    seen = (context.storage.seen or 0) + 1
    context.storage.seen = seen
    name = message.as_type(GREET_REQUEST)["name"]
    context.send(message_builder(target_typename="example/greeter", target_id=name,
                                 value={"name": name, "seen": seen}, value_type=SEEN))


@functions.bind(typename="example/greeter")
async def greeter(context, message):
    request = message.as_type(SEEN)
    greeting = compute_greeting(request["name"], request["seen"])
    context.send_egress(kafka_egress_message(typename="example/greets", topic="greetings",
                                             key=request["name"], value=greeting))


def compute_greeting(name, seen):
    """A greeting that depends on how often the name was seen."""
    templates = ["", "Welcome {}", "Nice to see you again {}", "Third time is a charm {}"]
    if seen < len(templates):
        return templates[seen].format(name)
    return f"Nice to see you at the {seen}-nth time {name}!"


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
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8000))
