"""The greeter of functions.py as an AWS Lambda behind the dispatcher's Lambda endpoint
(handler: lambda_function.handler; docs/official-sdks.md, "Python", shows how to package it)."""

from statefun import RequestReplyHandler

from functions import functions
from statefun_aws_lambda import lambda_handler

handler = lambda_handler(RequestReplyHandler(functions))
