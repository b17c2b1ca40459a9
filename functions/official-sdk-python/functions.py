"""The StateFun playground's Python greeter (apache/flink-statefun-playground,
python/greeter/functions.py), written with the official SDK (PyPI apache-flink-statefun) as
its docs write it. Only the serving part differs: instead of an aiohttp server,
lambda_function.py serves ``functions`` as an AWS Lambda.
"""

from statefun import *

functions = StatefulFunctions()

GREET_REQUEST_TYPE = make_json_type(typename="example/GreetRequest")
EGRESS_RECORD_TYPE = make_json_type(typename="io.statefun.playground/EgressRecord")


@functions.bind(typename="example/person", specs=[ValueSpec(name="visits", type=IntType)])
async def person(context: Context, message: Message):
    # update the visit count.
    visits = context.storage.visits or 0
    visits += 1
    context.storage.visits = visits

    # enrich the request with the number of visits.
    request = message.as_type(GREET_REQUEST_TYPE)
    request['visits'] = visits

    # forward it to the greeter of this person, which picks a greeting for that many visits.
    context.send(
        message_builder(target_typename="example/greeter",
                        target_id=request['name'],
                        value=request,
                        value_type=GREET_REQUEST_TYPE))


@functions.bind(typename="example/greeter")
async def greeter(context, message):
    request = message.as_type(GREET_REQUEST_TYPE)
    person_name = request['name']
    visits = request['visits']

    greeting = await compute_fancy_greeting(person_name, visits)

    egress_record = {
        "topic": "greetings",
        "payload": greeting
    }

    context.send_egress(egress_message_builder(target_typename="io.statefun.playground/egress",
                                               value=egress_record,
                                               value_type=EGRESS_RECORD_TYPE))


async def compute_fancy_greeting(name: str, seen: int):
    """
    Compute a personalized greeting, based on the number of times this @name had been seen before.
    """
    templates = ["", "Welcome %s", "Nice to see you again %s", "Third time is a charm %s"]
    if seen < len(templates):
        greeting = templates[seen] % name
    else:
        greeting = f"Nice to see you at the {seen}-nth time {name}!"
    return greeting
