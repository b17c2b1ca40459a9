import { Address } from '../../../runtime-lambda/core/Address';
import type { EgressRecord } from '../../../runtime-lambda/core/Effects';
import { InvalidInputError } from '../../../runtime-lambda/core/errors';
import { LocalRuntime } from '../../../runtime-lambda/local/LocalRuntime';
import { PLAYGROUND_EGRESS_RECORD_TYPE, PlaygroundEgress } from '../../../runtime-lambda/local/PlaygroundEgress';
import { PLAYGROUND_EGRESS_ID } from '../../../runtime-lambda/module/parseIoSpec';
import { textValue } from '../../helpers/factories';

const record = (json: unknown, typename = PLAYGROUND_EGRESS_RECORD_TYPE): EgressRecord => ({
  id: 'b1.e0',
  egress: PLAYGROUND_EGRESS_ID,
  argument: { typename, value: Buffer.from(typeof json === 'string' ? json : JSON.stringify(json)) },
});

describe('Class: PlaygroundEgress', () => {
  let egress: PlaygroundEgress;
  beforeEach(async () => {
    egress = await PlaygroundEgress.start({ port: 0, topics: ['greetings', 'alerts'], maxRecordsPerTopic: 3 });
  });
  afterEach(() => egress.close());

  const get = (topic: string) => fetch(`${egress.url}/${topic}`);

  it('answers one record per GET /<topic>, oldest first, each topic apart, then 404 with no body when empty', async () => {
    // Prepare
    egress.handler(record({ topic: 'greetings', payload: 'Hello Bob' }));
    egress.handler(record({ topic: 'alerts', payload: 'fire' }));
    egress.handler(record({ topic: 'greetings', payload: 'Welcome Ann ✓' }));

    // Act
    const answers: [number, string][] = [];
    for (const topic of ['greetings', 'greetings', 'greetings', 'alerts', 'alerts']) {
      const response = await get(topic);
      answers.push([response.status, await response.text()]);
    }

    // Assess
    expect(answers).toEqual([
      [200, 'Hello Bob'],
      [200, 'Welcome Ann ✓'],
      [404, ''],
      [200, 'fire'],
      [404, ''],
    ]);
  });

  it('answers any method, as StateFun does', async () => {
    // Prepare
    egress.handler(record({ topic: 'greetings', payload: 'hi' }));

    // Act
    const response = await fetch(`${egress.url}/greetings`, { method: 'POST', body: 'ignored' });

    // Assess
    expect([response.status, await response.text()]).toEqual([200, 'hi']);
  });

  it('answers 405 to a topic it does not serve, as StateFun does, naming the topics it serves', async () => {
    // Act
    const response = await get('greeting');

    // Assess
    expect(response.status).toBe(405);
    expect(await response.text()).toBe('no topic "greeting" on this playground egress: GET /<topic> with one of "greetings", "alerts"\n');
  });

  it.each([
    ['another type', record({ topic: 'greetings', payload: 'x' }, 'example/Greeting'), 'the playground egress takes io.statefun.playground/EgressRecord values (JSON {"topic": ..., "payload": ...}), got a value of type example/Greeting'],
    ['not JSON', record('{"topic": '), 'the io.statefun.playground/EgressRecord is not JSON: '],
    ['no payload', record({ topic: 'greetings' }), 'the io.statefun.playground/EgressRecord must be a JSON object with a string "topic" and a string "payload", got {"topic":"greetings"}'],
    ['a payload that is not a string', record({ topic: 'greetings', payload: { text: 'x' } }), 'must be a JSON object with a string "topic" and a string "payload", got {"topic":"greetings","payload":{"text":"x"}}'],
    ['JSON null', record('null'), 'must be a JSON object with a string "topic" and a string "payload", got null'],
    ['an unknown topic', record({ topic: 'news', payload: 'x' }), 'the playground egress has no topic "news": its topics are "greetings", "alerts"'],
  ])('refuses a record with %s, saying what is wrong', (_case, bad, message) => {
    // Act
    const attempt = () => egress.handler(bad);

    // Assess
    expect(attempt).toThrow(InvalidInputError);
    expect(attempt).toThrow(message);
  });

  it('refuses a record past maxRecordsPerTopic unread ones, saying how to read them', async () => {
    // Prepare
    for (let i = 0; i < 3; i++) egress.handler(record({ topic: 'alerts', payload: String(i) }));

    // Act
    const attempt = () => egress.handler(record({ topic: 'alerts', payload: '3' }));

    // Assess
    expect(attempt).toThrow('topic "alerts" of the playground egress already holds 3 unread records (the most it keeps): read them with GET /alerts');
    expect(egress.unread('alerts')).toBe(3);
    await get('alerts');
    expect(() => egress.handler(record({ topic: 'alerts', payload: '3' }))).not.toThrow();
  });

  it('refuses a topic it could not serve as a path', async () => {
    // Act
    const attempt = PlaygroundEgress.start({ port: 0, topics: ['a/b'] });

    // Assess
    await expect(attempt).rejects.toThrow('playground egress: invalid topic "a/b": expected a non-empty name without "/" (it is the path of GET /<topic>)');
  });

  it('keeps many records in order', async () => {
    // Prepare
    const many = await PlaygroundEgress.start({ port: 0, topics: ['t'] });
    for (let i = 0; i < 2100; i++) many.handler(record({ topic: 't', payload: String(i) }));

    // Act
    const read: string[] = [];
    for (let i = 0; i < 2100; i++) read.push(await (await fetch(`${many.url}/t`)).text());
    await many.close();

    // Assess
    expect(read).toEqual(Array.from({ length: 2100 }, (_, i) => String(i)));
  });

  it("behind a LocalRuntime: a function's records reach their topic, and a refused record becomes a dead letter with the reason", async () => {
    // Prepare
    const runtime = new LocalRuntime({
      functions: {
        resolve: () => ({
          invoke: async (request) => ({
            kind: 'result',
            mutations: [],
            messages: [],
            delayed: [],
            egress: request.invocations.map(({ argument }) => ({ egress: PLAYGROUND_EGRESS_ID, argument: { typename: PLAYGROUND_EGRESS_RECORD_TYPE, value: argument.value } })),
          }),
        }),
      },
      egresses: { [PLAYGROUND_EGRESS_ID]: egress.handler },
    });
    runtime.send(Address.of('example/greeter', 'Bob'), textValue(JSON.stringify({ topic: 'greetings', payload: 'Hello Bob' })));
    runtime.send(Address.of('example/greeter', 'Ann'), textValue(JSON.stringify({ topic: 'nowhere', payload: 'lost' })));

    // Act
    await runtime.runUntilIdle();

    // Assess
    expect(await (await get('greetings')).text()).toBe('Hello Bob');
    expect(runtime.deadLetters.map((d) => [d.address, d.reason])).toEqual([
      [PLAYGROUND_EGRESS_ID, 'egress "io.statefun.playground/egress" refused the record: InvalidInputError: the playground egress has no topic "nowhere": its topics are "greetings", "alerts"'],
    ]);
  });
});
