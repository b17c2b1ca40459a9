"""Serve functions written with the official StateFun Python SDK as an AWS Lambda.

Copy this file next to your functions (it needs only the standard library and the SDK,
PyPI ``apache-flink-statefun``) and point the Lambda's handler at the result of
:func:`lambda_handler`. The dispatcher of Stateful Functions on AWS invokes the Lambda with
the event ``{"request": "<base64 of the ToFunction bytes>"}`` and reads the result
``{"response": "<base64 of the FromFunction bytes>"}``.

Example (``lambda_function.py``, handler ``lambda_function.handler``)::

    from statefun import RequestReplyHandler
    from statefun_aws_lambda import lambda_handler
    from functions import functions  # your StatefulFunctions, unchanged

    handler = lambda_handler(RequestReplyHandler(functions))

Failures make the invocation fail; Lambda reports the exception's class as ``errorType``:
``ValueError`` for an event that is not ``{"request": "<base64>"}``, bytes that are not a
``ToFunction`` invocation batch or a function type that is not bound; the function's own
exception when it raises.
"""

import base64
import binascii

from statefun import RequestReplyHandler
from statefun.request_reply_pb2 import ToFunction

__all__ = ["lambda_handler", "decode_request"]

_EXPECTED = 'expected {"request": "<base64 of the StateFun ToFunction bytes>"}'


def lambda_handler(handler: RequestReplyHandler):
    """Returns a Lambda handler ``handler(event, context)`` serving ``handler``'s functions.

    The SDK answers a batch without effects with zero bytes; that goes out as
    ``{"response": ""}``, which the runtime reads as no effects, as StateFun does.

    :param handler: the SDK's ``RequestReplyHandler(functions)``.
    :raises TypeError: when ``handler`` is not a ``RequestReplyHandler``.
    :raises ValueError: (from the returned handler) for a malformed event or request bytes, or
        a function type that is not bound.
    """
    if not isinstance(handler, RequestReplyHandler):
        raise TypeError(
            f"lambda_handler takes a statefun.RequestReplyHandler, got {type(handler).__name__}: "
            "pass RequestReplyHandler(functions)"
        )

    def handle(event, context):
        request = decode_request(event)
        try:
            response = handler.handle_sync(request)
        except Exception as error:
            # The SDK's errors on malformed bytes (a protobuf DecodeError, an AttributeError)
            # or an unbound type (a KeyError) do not say what is wrong: say it, else keep the
            # function's own error.
            _diagnose(handler, request, error)
            raise
        return {"response": base64.b64encode(response).decode("ascii")}

    return handle


def decode_request(event) -> bytes:
    """The ToFunction bytes of a Lambda event ``{"request": "<base64>"}``.

    :raises ValueError: naming what the event is and what was expected.
    """
    if not isinstance(event, dict):
        raise ValueError(f"invalid Lambda payload: {_EXPECTED}, got {_json_kind(event)}")
    request = event.get("request")
    if not isinstance(request, str):
        got = (
            f"an object with keys [{', '.join(map(str, event.keys()))}]"
            if "request" not in event
            else f'"request" of type {_json_kind(request)}'
        )
        raise ValueError(f"invalid Lambda payload: {_EXPECTED}, got {got}")
    try:
        decoded = base64.b64decode(request, validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if not decoded:
        raise ValueError(
            f'invalid Lambda payload: "request" is not non-empty standard base64 ({len(request)} characters); {_EXPECTED}'
        )
    return decoded


def _diagnose(handler: RequestReplyHandler, request: bytes, cause: Exception) -> None:
    """Raises a ValueError saying what is wrong if ``request`` is not a ToFunction batch, or
    targets a function type that ``handler`` does not serve."""
    what = f"invalid ToFunction ({len(request)} bytes)"
    message = ToFunction()
    try:
        message.ParseFromString(request)
    except Exception as error:
        raise ValueError(f"{what}: not protobuf ({error}); expected the StateFun ToFunction bytes of an invocation batch") from cause
    if not message.HasField("invocation"):
        raise ValueError(f"{what}: no invocation batch; expected a ToFunction with its \"invocation\" set") from cause
    target = message.invocation.target
    if not (target.namespace and target.type and target.id):
        raise ValueError(
            f"{what}: the batch's target address {target.namespace!r}/{target.type!r}/{target.id!r} "
            "is incomplete; expected a namespace, a type and an id"
        ) from cause
    typename = f"{target.namespace}/{target.type}"
    try:
        handler.functions.for_typename(typename)
    except KeyError:
        bound = ", ".join(sorted(getattr(handler.functions, "_functions", {}))) or "(none)"
        raise ValueError(
            f"no function {typename} is bound here; bound: {bound}. Bind it with "
            f'@functions.bind(typename="{typename}", ...) or route {typename} to the Lambda that serves it'
        ) from cause


def _json_kind(value) -> str:
    """The kind of a JSON value as the TypeScript handler names it."""
    if value is None:
        return "null"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else type(value).__name__
