import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Types } from '../../../runtime-lambda/sdk';
import { ensureMoto } from '../../support/emulators';
import {
  GARBAGE_BYTES,
  MALFORMED_PAYLOADS,
  NO_INVOCATION,
  greeterBatch,
  greeterReply,
  lambdaEvent,
  personBatch,
  personReply,
  invokeThroughLambda,
  readReply,
  runGreeterThroughLambda,
  testBatch,
} from './officialGreeter';

const ROOT = resolve(__dirname, '..', '..', '..');
const PYTHON = join(process.env.STATEFUN_VENV ?? join(ROOT, '.venv'), 'bin', 'python');

/** What AWS Lambda's Python runtime makes of one invocation: the result, or the raised exception. */
type Outcome = { result: unknown } | { errorType: string; errorMessage: string };

/**
 * The Python adapter and example in one `.venv/bin/python` process
 * (officialPythonDriver.py), invoked one JSON line at a time; answers come back in order.
 */
class PythonLambda {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: { resolve: (outcome: Outcome) => void; reject: (error: Error) => void }[] = [];
  private stderr = '';

  constructor() {
    this.child = spawn(
      PYTHON,
      [join(__dirname, 'officialPythonDriver.py'), join(ROOT, 'runtime-lambda/adapters/python'), join(ROOT, 'functions/official-sdk-python')],
      { cwd: ROOT, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
    );
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    createInterface({ input: this.child.stdout }).on('line', (line) => this.waiting.shift()?.resolve(JSON.parse(line) as Outcome));
    this.child.on('exit', (code) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`the Python driver exited (${code}): ${this.stderr}`));
    });
  }

  invoke(handler: 'example' | 'extras' | 'misuse', event: unknown): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(`${JSON.stringify({ handler, event })}\n`);
    });
  }

  /** As a Lambda handler for the Invoke API emulator: a raised exception is a function error of its class. */
  async handle(handler: 'example' | 'extras', event: unknown): Promise<unknown> {
    const outcome = await this.invoke(handler, event);
    if ('result' in outcome) return outcome.result;
    throw Object.assign(new Error(outcome.errorMessage), { name: outcome.errorType });
  }

  close(): Promise<void> {
    return new Promise((done) => {
      this.child.once('exit', () => done());
      this.child.stdin.end();
    });
  }
}

const text = (value: string) => ({ typename: Types.string.typename, value: Types.string.serialize(value) });

describe('Function: lambda_handler (official Python SDK, statefun_aws_lambda.py)', () => {
  let python: PythonLambda;

  beforeAll(async () => {
    await ensureMoto(); // the venv with the official SDK (scripts/ensure-venv.sh)
    python = new PythonLambda();
  }, 180_000);
  afterAll(() => python.close());

  async function result(handler: 'example' | 'extras', event: unknown): Promise<unknown> {
    const outcome = await python.invoke(handler, event);
    expect(outcome).not.toHaveProperty('errorType');
    return (outcome as { result: unknown }).result;
  }

  it('serves the greeter example: a first visit writes the absent state and messages the greeter', async () => {
    // Act
    const reply = await result('example', lambdaEvent(personBatch('ada', null)));

    // Assess
    expect(readReply(reply)).toEqual(personReply('ada', 1));
  });

  it('reads stored state and applies a batch of messages in order', async () => {
    // Act
    const reply = await result('example', lambdaEvent(personBatch('ada', 4, 2)));

    // Assess
    const expected = personReply('ada', 6);
    expect(readReply(reply)).toEqual({ ...expected, messages: [{ ...expected.messages[0]!, value: { name: 'ada', visits: 5 } }, expected.messages[0]] });
  });

  it('writes the greeting to the playground egress', async () => {
    // Act
    const reply = await result('example', lambdaEvent(greeterBatch('ada', 3)));

    // Assess
    expect(readReply(reply)).toEqual(greeterReply('Third time is a charm ada'));
  });

  it('asks for a state that the request does not register (the missing-state round trip)', async () => {
    // Act
    const reply = await result('example', lambdaEvent(personBatch('ada', 'unregistered')));

    // Assess
    expect(readReply(reply)).toEqual({ kind: 'incomplete', missing: [{ name: 'visits', typename: Types.int.typename }] });
  });

  it('passes the SDK\'s empty answer to a batch without effects on as {"response": ""}, read as no effects', async () => {
    // Act
    const reply = await result('extras', lambdaEvent(testBatch('test/quiet', text('hi'), [{ name: 'seen', value: { typename: Types.int.typename, value: null } }])));

    // Assess
    expect(reply).toEqual({ response: '' });
    expect(readReply(reply)).toEqual({ kind: 'result', mutations: [], messages: [], delayed: [], egress: [] });
  });

  it('has the runtime\'s Lambda transport read {"response": ""} as a result without effects', async () => {
    // Act
    const response = await invokeThroughLambda(
      (event) => python.handle('extras', event),
      testBatch('test/quiet', text('hi'), [{ name: 'seen', value: { typename: Types.int.typename, value: null } }]),
    );

    // Assess
    expect(response).toEqual({ kind: 'result', mutations: [], messages: [], delayed: [], egress: [] });
  });

  it('refuses to wrap anything but a RequestReplyHandler, with a TypeError', async () => {
    // Act: lambda_handler(functions), forgetting RequestReplyHandler(...)
    const outcome = await python.invoke('misuse', null);

    // Assess
    expect(outcome).toEqual({
      errorType: 'TypeError',
      errorMessage: 'lambda_handler takes a statefun.RequestReplyHandler, got StatefulFunctions: pass RequestReplyHandler(functions)',
    });
  });

  it('passes delayed messages and cancellations on', async () => {
    // Act
    const reply = await result('extras', lambdaEvent(testBatch('test/reminder', text('later'))));

    // Assess
    expect(readReply(reply)).toMatchObject({
      delayed: [
        { kind: 'send', delayMs: 60_000, to: 'test/reminder/x', token: 'remind-x', type: Types.string.typename, value: 'later' },
        { kind: 'cancel', cancellationToken: 'old-token' },
      ],
    });
  });

  it.each(MALFORMED_PAYLOADS)('rejects %s with a ValueError', async (_case, event, message) => {
    // Act
    const outcome = await python.invoke('example', event);

    // Assess
    expect(outcome).toEqual({ errorType: 'ValueError', errorMessage: message });
  });

  it.each([
    [
      'bytes that are not protobuf',
      GARBAGE_BYTES,
      // the reason in parentheses is protobuf's, and differs between its implementations
      /^invalid ToFunction \(8 bytes\): not protobuf \(.+\); expected the StateFun ToFunction bytes of an invocation batch$/,
    ],
    ['a ToFunction without an invocation batch', NO_INVOCATION, /^invalid ToFunction \(2 bytes\): no invocation batch; expected a ToFunction with its "invocation" set$/],
  ])('rejects %s with a ValueError', async (_case, request, message) => {
    // Act
    const outcome = await python.invoke('example', { request });

    // Assess
    expect(outcome).toEqual({ errorType: 'ValueError', errorMessage: expect.stringMatching(message) });
  });

  it('fails the invocation with the function\'s own exception when it raises', async () => {
    // Act
    const outcome = await python.invoke('extras', lambdaEvent(testBatch('test/thrower', text('x'))));

    // Assess
    expect(outcome).toEqual({ errorType: 'ArithmeticError', errorMessage: 'negative increment' });
  });

  it('fails the invocation with a ValueError naming the bound types for a type that is not bound', async () => {
    // Act
    const outcome = await python.invoke('extras', lambdaEvent(testBatch('test/unbound', text('x'))));

    // Assess: the SDK itself raises KeyError('test/unbound')
    expect(outcome).toEqual({
      errorType: 'ValueError',
      errorMessage:
        'no function test/unbound is bound here; bound: test/quiet, test/reminder, test/thrower. ' +
        'Bind it with @functions.bind(typename="test/unbound", ...) or route test/unbound to the Lambda that serves it',
    });
  });

  it('runs the greeter behind the runtime: dispatcher, lambdaTransport and the Invoke API', async () => {
    // Act
    const run = await runGreeterThroughLambda((event) => python.handle('example', event), ['ada', 'bob', 'ada', 'ada', 'ada']);

    // Assess
    expect(run).toEqual({
      greetings: ['Welcome ada', 'Welcome bob', 'Nice to see you again ada', 'Third time is a charm ada', 'Nice to see you at the 4-nth time ada!'],
      visits: { ada: 4, bob: 1 },
      deadLetters: [],
    });
  });
});
