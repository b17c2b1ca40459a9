import { Agent, request } from 'node:http';
import { Address } from '../../../runtime-lambda/core/Address';
import { InvalidInputError } from '../../../runtime-lambda/core/errors';
import type { TypedValue } from '../../../runtime-lambda/core/TypedValue';
import { type IngressRefusal, PlaygroundIngress } from '../../../runtime-lambda/local/PlaygroundIngress';
import { Types } from '../../../runtime-lambda/sdk/Types';

describe('Class: PlaygroundIngress', () => {
  const taken: { target: string; value: TypedValue }[] = [];
  let refusal: IngressRefusal | undefined;
  let ingress: PlaygroundIngress;

  beforeAll(async () => {
    ingress = await PlaygroundIngress.start({
      port: 0,
      maxBodyBytes: 64,
      accept: (target, value) => {
        if (refusal) return refusal;
        taken.push({ target: target.key, value });
        return undefined;
      },
    });
  });
  afterAll(() => ingress.close());
  beforeEach(() => {
    taken.length = 0;
    refusal = undefined;
  });

  const send = (path: string, init: RequestInit = {}) => fetch(`${ingress.url}${path}`, { method: 'PUT', ...init });

  it('listens on 127.0.0.1 unless told', () => {
    // Assess
    expect(ingress.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it.each(['PUT', 'POST', 'PATCH'])("takes a %s on /<namespace>/<type>/<id>, the value's type from Content-Type: application/vnd.<typename>, and answers 200 with no body", async (method) => {
    // Act
    const response = await send('/example/person/Bob', { method, headers: { 'content-type': 'application/vnd.example/GreetRequest' }, body: '{"name": "Bob"}' });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    expect(taken).toEqual([{ target: 'example/person/Bob', value: { typename: 'example/GreetRequest', value: Buffer.from('{"name": "Bob"}') } }]);
  });

  it('takes a GET without a body as an empty value', async () => {
    // Act
    const response = await fetch(`${ingress.url}/example/person/Bob`, { headers: { 'content-type': 'application/vnd.example/Ping' } });

    // Assess
    expect(response.status).toBe(200);
    expect(taken.map((t) => [t.value.typename, Buffer.from(t.value.value!).length])).toEqual([['example/Ping', 0]]);
  });

  it('ignores Content-Type parameters, a query string and one trailing slash, and URL-decodes each part', async () => {
    // Act
    const response = await send('/example/person/Bob%20Smith/?trace=1', { headers: { 'content-type': 'application/vnd.example/GreetRequest; charset=utf-8' }, body: '{}' });

    // Assess
    expect(response.status).toBe(200);
    expect(taken.map((t) => [t.target, t.value.typename])).toEqual([['example/person/Bob Smith', 'example/GreetRequest']]);
  });

  it.each([
    ['no Content-Type', undefined],
    ['another Content-Type', 'text/plain'],
  ])('with %s, sends the body as an io.statefun.types/string the SDKs can read', async (_case, contentType) => {
    // Act
    const response = await send('/example/person/Bob', { headers: contentType ? { 'content-type': contentType } : {}, body: Buffer.from('héllo') });

    // Assess
    expect(response.status).toBe(200);
    expect(taken[0]!.value.typename).toBe('io.statefun.types/string');
    expect(Types.string.deserialize(taken[0]!.value.value!)).toBe('héllo');
  });

  it('answers 400 to a body that is not UTF-8 text without a type, saying to name its type', async () => {
    // Act
    const response = await send('/example/person/Bob', { body: Buffer.from([0xff, 0xfe, 0x00]) });

    // Assess
    expect(response.status).toBe(400);
    expect(await response.text()).toBe(
      'the body is not UTF-8 text, which a request without an application/vnd.<namespace/type> Content-Type must be (it is sent as io.statefun.types/string): name its type, e.g. Content-Type: application/vnd.example/Reading\n',
    );
    expect(taken).toEqual([]);
  });

  it.each([
    ['/', 'invalid path "/": expected /<namespace>/<type>/<id>, e.g. /example/person/Bob'],
    ['/example/person', 'invalid path "/example/person": expected /<namespace>/<type>/<id>, e.g. /example/person/Bob'],
    ['/example/person/Bob/extra', 'invalid path "/example/person/Bob/extra": expected /<namespace>/<type>/<id>, e.g. /example/person/Bob'],
    ['/example//Bob', 'invalid path "/example//Bob": expected /<namespace>/<type>/<id>, e.g. /example/person/Bob'],
    ['/example/per%zzson/Bob', 'invalid path "/example/per%zzson/Bob": a part is not valid URL encoding; expected /<namespace>/<type>/<id>, e.g. /example/person/Bob'],
    ['/exa%20mple/person/Bob', 'invalid path "/exa%20mple/person/Bob": invalid type name "exa mple/person": expected "namespace/type" with letters, digits, ".", "_" or "-" in each part, e.g. "fraud/model"'],
  ])('answers 400 to the path %s, saying what is expected', async (path, message) => {
    // Act
    const response = await send(path, { headers: { 'content-type': 'application/vnd.example/GreetRequest' }, body: '{}' });

    // Assess
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await response.text()).toBe(`${message}\n`);
    expect(taken).toEqual([]);
  });

  it.each(['application/vnd.', 'application/vnd.GreetRequest', 'application/vnd.example/Greet Request'])('answers 400 to Content-Type %s, naming the expected form', async (contentType) => {
    // Act
    const response = await send('/example/person/Bob', { headers: { 'content-type': contentType }, body: '{}' });

    // Assess
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).toContain(`invalid Content-Type ${JSON.stringify(contentType)}: invalid type name`);
    expect(text).toContain('expected application/vnd.<namespace/type>, e.g. application/vnd.example/GreetRequest');
  });

  it('answers 413 to a body over maxBodyBytes announced by Content-Length, and closes the connection', async () => {
    // Act
    const response = await send('/example/person/Bob', { headers: { 'content-type': 'application/vnd.example/Big' }, body: 'x'.repeat(65) });

    // Assess
    expect(response.status).toBe(413);
    expect(response.headers.get('connection')).toBe('close');
    expect(await response.text()).toBe("the body of 65 bytes is over the ingress's limit of 64 bytes (maxBodyBytes)\n");
    expect(taken).toEqual([]);
  });

  it('answers 413 to a chunked body that grows over maxBodyBytes', async () => {
    // Act
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${ingress.url}/example/person/Bob`, { method: 'POST', headers: { 'content-type': 'application/vnd.example/Big', 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      });
      req.on('error', reject);
      req.write('x'.repeat(40));
      req.end('y'.repeat(40));
    });

    // Assess
    expect(status).toBe(413);
    expect(body).toBe("the body is over the ingress's limit of 64 bytes (maxBodyBytes)\n");
    expect(taken).toEqual([]);
  });

  it('takes a body of exactly maxBodyBytes', async () => {
    // Act
    const response = await send('/example/person/Bob', { headers: { 'content-type': 'application/vnd.example/Big' }, body: 'x'.repeat(64) });

    // Assess
    expect(response.status).toBe(200);
    expect(taken).toHaveLength(1);
  });

  it.each([404, 503] as const)('answers %s with the message when accept refuses', async (status) => {
    // Prepare
    refusal = { status, message: 'no endpoint serves example/nobody' };

    // Act
    const response = await send('/example/nobody/1', { headers: { 'content-type': 'application/vnd.example/X' }, body: '{}' });

    // Assess
    expect(response.status).toBe(status);
    expect(await response.text()).toBe('no endpoint serves example/nobody\n');
  });

  it('takes many requests on one keep-alive connection, in order', async () => {
    // Act
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = request(`${ingress.url}/example/counter/c`, { method: 'POST', agent, headers: { 'content-type': 'application/vnd.example/N' } }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
        });
        req.on('error', reject);
        req.end(String(i));
      });
    }
    agent.destroy();

    // Assess
    expect(taken.map((t) => Buffer.from(t.value.value!).toString())).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });

  it('answers 500 naming the error when accept throws', async () => {
    // Prepare
    const failing = await PlaygroundIngress.start({
      port: 0,
      accept: () => {
        throw new Error('disk full');
      },
    });

    // Act
    const response = await fetch(`${failing.url}/example/person/Bob`, { method: 'POST', body: 'x' });
    await failing.close();

    // Assess
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('the runtime could not take the message: Error: disk full\n');
  });

  it('refuses a maxBodyBytes that is not a positive whole number', async () => {
    // Act
    const attempt = PlaygroundIngress.start({ port: 0, maxBodyBytes: 0, accept: () => undefined });

    // Assess
    await expect(attempt).rejects.toThrow(InvalidInputError);
    await expect(PlaygroundIngress.start({ port: 0, maxBodyBytes: 1.5, accept: () => undefined })).rejects.toThrow('playground ingress: maxBodyBytes must be a positive whole number, got 1.5');
  });

  it('fails to start on a port in use, with the server error', async () => {
    // Act
    const attempt = PlaygroundIngress.start({ port: Number(new URL(ingress.url).port), accept: () => undefined });

    // Assess
    await expect(attempt).rejects.toThrow(/EADDRINUSE/);
  });

  it('gives the address it takes as an Address', async () => {
    // Prepare
    let seen: unknown;
    const one = await PlaygroundIngress.start({ port: 0, accept: (target) => void (seen = target) });

    // Act
    await fetch(`${one.url}/a.b/c-d/e_f`, { method: 'POST', body: '' });
    await one.close();

    // Assess
    expect(seen).toBeInstanceOf(Address);
    expect((seen as Address).typename).toBe('a.b/c-d');
  });
});
