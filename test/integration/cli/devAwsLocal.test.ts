import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Address } from '../../../runtime-lambda/core/Address';
import { DynamoStateStore } from '../../../runtime-lambda/aws/DynamoStateStore';
import { localAwsClients } from '../../../runtime-lambda/aws/LocalAws';
import { InvalidInputError } from '../../../runtime-lambda/core/errors';
import { type DevOptions, type DevSession, loadApp, startDev } from '../../../runtime-lambda/local/cli';
import { runStatefun } from '../../../runtime-lambda/local/statefun';
import { readText } from '../../helpers/factories';
import { awsClientConfig, dynamoClientConfig } from '../../support/awsClientConfig';

const REPO = resolve(__dirname, '..', '..', '..');
const APP = 'test/integration/poller/fixtures/journalApp.ts';

async function statefun(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runStatefun(argv, {}, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('statefun dev --aws-local', () => {
  describe('command line', () => {
    it.each([
      [['dev'], 'error: give --module <file> (a StateFun module.yaml, run on the embedded runtime) or --aws-local --app <module> (an app on local AWS)'],
      [['dev', '--app', APP], 'error: --app go with --aws-local: give --aws-local, or run a module.yaml with --module <file>'],
      [['dev', '--aws-local'], 'error: --aws-local needs --app <module>: the module that exports your StatefulFunctions application'],
      [['dev', '--aws-local', '--app'], "error: option '--app <module>' argument missing"],
      [['dev', '--aws-local', '--module', 'module.yaml', '--app', APP], "error: option '--module <file>' cannot be used with option '--aws-local'"],
      [['dev', '--aws-local', '--app', APP, '--quiet'], "error: option '--quiet' cannot be used with option '--aws-local'"],
      [['dev', '--aws-local', '--app', APP, '--ingress', 'orders'], '--ingress must be <stream>=<namespace/type>[:<value type>], e.g. orders=shop/cart, got "orders"'],
      [['dev', '--aws-local', '--app', APP, '--ingress', 'orders=cart'], '--ingress orders=cart: invalid type name "cart"'],
      [['dev', '--aws-local', '--app', APP, '--ingress', 'o=a/b', '--ingress', 'o=a/c'], '--ingress: stream o is given twice'],
      [['dev', '--aws-local', '--app', APP, '--egress', 'nope'], '--egress "nope": invalid type name "nope"'],
      [['dev', '--aws-local', '--app', APP, '--parallelization', '11'], '--parallelization must be an integer from 1 to 10, got "11"'],
      [['dev', '--aws-local', '--app', APP, '--batch-size=abc'], '--batch-size must be an integer from 1 to 10000, got "abc"'],
      [['dev', '--aws-local', '--app', APP, '--prefix', 'bad name!'], '--prefix must be 1 to 40 letters, digits, "-" or "_" (it names tables, streams and queues), got "bad name!"'],
      [['dev', '--aws-local', '--app', APP, '--verbose'], "error: unknown option '--verbose'"],
      [['dev', '--aws-local', '--app', 'no/such/app.ts'], 'error: --app no/such/app.ts: no such file'],
      [['dev', '--aws-local', '--app', APP, '--export', 'nothing'], 'expected "nothing" to be a StatefulFunctions registry'],
    ])('exits 2 for %j, saying what is wrong', async (argv, message) => {
      // Act
      const run = await statefun(...argv);

      // Assess
      expect(run.code).toBe(2);
      expect(run.err.join('\n')).toContain(message);
      expect(run.out).toEqual([]);
    });

    it('loads the app module and says what is wrong with one that exports no app', async () => {
      // Act
      const resolver = await loadApp(resolve(REPO, APP));

      // Assess
      expect(typeof resolver.resolve).toBe('function');
      await expect(loadApp(resolve(REPO, APP), 'nothing')).rejects.toThrow(InvalidInputError);
      await expect(loadApp(resolve(REPO, APP), 'nothing')).rejects.toThrow('expected "nothing" to be a StatefulFunctions registry');
      await expect(loadApp('no/such/app.ts')).rejects.toThrow('--app no/such/app.ts: no such file');
    });

    it('exits 2 with the reason when run as npm run dev:aws', () => {
      // Act
      const run = spawnSync('npm', ['run', '--silent', 'dev:aws', '--', '--app', APP, '--parallelization', '0'], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });

      // Assess
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('--parallelization must be an integer from 1 to 10, got "0"');
    });
  });

  describe('on the emulators', () => {
    let session: DevSession | undefined;
    afterAll(async () => {
      await session?.stop();
    });

    it('provisions everything and runs ingress → dispatcher → relay → message stream → dispatcher → egress', async () => {
      // Prepare
      const prefix = `dev-${randomUUID().slice(0, 8)}`;
      const ingress = `${prefix}-orders`;
      const options: DevOptions = {
        app: APP,
        prefix,
        ingresses: { [ingress]: { functionType: 'test/journal', valueType: 'test/text' } },
        egress: ['test/out'],
        messageShards: 2,
        batchSize: 100,
        parallelization: 1,
        once: true,
      };
      const d = dynamoClientConfig();
      const a = awsClientConfig();
      const endpoints = { dynamodb: d.endpoint, aws: a.endpoint, region: a.region, credentials: a.credentials };
      session = await startDev(options, await loadApp(resolve(REPO, APP)), endpoints, { warn: () => undefined });
      const clients = localAwsClients(endpoints);

      // Act
      try {
        await clients.kinesis.send(new PutRecordsCommand({ StreamName: ingress, Records: [{ PartitionKey: 'alice', Data: Buffer.from('send test/journal/bob egress hi bob') }] }));
        await session.poller.waitForIdle({ quietMs: 1000, timeoutMs: 60_000 });

        // Assess
        const store = new DynamoStateStore({ tableName: session.resources.tableName, outboxTableName: session.resources.outboxTableName, inboxTableName: session.resources.inboxTableName, client: clients.dynamo });
        const bob = Address.of('test/journal', 'bob');
        const states = await store.load([Address.of('test/journal', 'alice'), bob]);
        expect(readText(states.get('test/journal/alice')!.values.get('journal'))).toBe('send test/journal/bob egress hi bob');
        expect(readText(states.get(bob.key)!.values.get('journal'))).toBe('egress hi bob');
        const target = session.resources.egress['test/out'] as { sqsQueueUrl: string };
        const got = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: target.sqsQueueUrl, WaitTimeSeconds: 1 }));
        expect(got.Messages?.map((m) => m.Body)).toEqual(['hi bob']);
        expect(session.poller.progress.handlerErrors).toBe(0);
      } finally {
        clients.destroy();
      }
    });
  });
});
