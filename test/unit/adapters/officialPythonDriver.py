"""Drives statefun_aws_lambda as AWS Lambda's Python runtime would, for officialPython.test.ts.

Reads JSON lines ``{"handler": "example" | "extras" | "misuse", "event": <the Lambda event>}`` on stdin
and answers each with one JSON line: ``{"result": <the handler's result>}``, or
``{"errorType": <exception class>, "errorMessage": <str(exception)>}`` as Lambda reports a
function error. ``example`` is functions/official-sdk-python/lambda_function.handler;
``extras`` serves the tests' own functions (no effects, delays, a failure); ``misuse`` calls
``lambda_handler`` with the functions instead of a RequestReplyHandler.

Usage: python officialPythonDriver.py <adapter dir> <example dir>
"""

import json
import sys
from datetime import timedelta

sys.path[:0] = sys.argv[1:3]

from statefun import IntType, StatefulFunctions, RequestReplyHandler, ValueSpec, message_builder  # noqa: E402

from lambda_function import handler as example  # noqa: E402
from statefun_aws_lambda import lambda_handler  # noqa: E402

extras_functions = StatefulFunctions()


@extras_functions.bind(typename="test/quiet", specs=[ValueSpec(name="seen", type=IntType)])
def quiet(context, message):
    _ = context.storage.seen  # reads, writes nothing


@extras_functions.bind(typename="test/reminder")
def reminder(context, message):
    context.send_after(timedelta(minutes=1),
                       message_builder(target_typename="test/reminder", target_id=context.address.id,
                                       str_value=message.as_string()),
                       cancellation_token="remind-x")
    context.cancel_delayed_message("old-token")


@extras_functions.bind(typename="test/thrower")
def thrower(context, message):
    raise ArithmeticError("negative increment")


handlers = {
    "example": example,
    "extras": lambda_handler(RequestReplyHandler(extras_functions)),
    # wraps the functions without RequestReplyHandler(...): lambda_handler raises
    "misuse": lambda event, context: lambda_handler(extras_functions),
}

for line in sys.stdin:
    command = json.loads(line)
    try:
        answer = {"result": handlers[command["handler"]](command["event"], None)}
    except Exception as error:
        answer = {"errorType": type(error).__name__, "errorMessage": str(error)}
    print(json.dumps(answer), flush=True)
