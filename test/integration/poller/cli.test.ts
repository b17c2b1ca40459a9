import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Address } from '../../../runtime-lambda/core/Address';
import { DynamoStateStore } from '../../../runtime-lambda/aws/DynamoStateStore';
import { localAwsClients } from '../../../runtime-lambda/aws/LocalAws';
import { type DevSession, UsageError, loadApp, parseDevArgs, startDev } from '../../../runtime-lambda/local/cli';
import { readText } from '../../helpers/factories';
import { awsClientConfig, dynamoClientConfig } from '../../support/awsClientConfig';

const REPO = resolve(__dirname, '..', '..', '..');
const APP = 'test/integration/poller/fixtures/journalApp.ts';

describe('statefun dev --aws-local', () => {
  describe('command line', () => {
    it.each([
      [[], 'no command given'],
      [['serve'], 'unknown command "serve"'],
      [['dev', '--app', APP], 'dev needs --aws-local'],
      [['dev', '--aws-local'], '--app <module> is required'],
      [['dev', '--aws-local', '--app'], '--app needs a value'],
      [['dev', '--aws-local', '--app', APP, '--ingress', 'orders'], '--ingress must be <stream>=<namespace/type>[:<value type>]'],
      [['dev', '--aws-local', '--app', APP, '--ingress', 'orders=cart'], '--ingress orders=cart:'],
      [['dev', '--aws-local', '--app', APP, '--ingress', 'o=a/b', '--ingress', 'o=a/c'], 'stream o is given twice'],
      [['dev', '--aws-local', '--app', APP, '--egress', 'nope'], '--egress "nope"'],
      [['dev', '--aws-local', '--app', APP, '--parallelization', '11'], '--parallelization must be an integer from 1 to 10, got "11"'],
      [['dev', '--aws-local', '--app', APP, '--batch-size=abc'], '--batch-size must be an integer from 1 to 10000, got "abc"'],
      [['dev', '--aws-local', '--app', APP, '--prefix', 'bad name!'], '--prefix must be 1 to 40 letters'],
      [['dev', '--aws-local', '--app', APP, '--verbose'], 'unknown argument "--verbose"'],
    ])('rejects %j: %s', (argv, message) => {
      expect(() => parseDevArgs(argv)).toThrow(UsageError);
      expect(() => parseDevArgs(argv)).toThrow(message);
    });

    it('parses a full command line', () => {
      expect(parseDevArgs(['dev', '--aws-local', '--app', APP, '--ingress', 'orders=shop/cart:shop/Order', '--egress', 'shop/out', '--batch-size=10', '--parallelization', '2', '--once'])).toEqual({
        app: APP,
        prefix: 'statefun-dev',
        ingresses: { orders: { functionType: 'shop/cart', valueType: 'shop/Order' } },
        egress: ['shop/out'],
        messageShards: 2,
        batchSize: 10,
        parallelization: 2,
        once: true,
      });
    });

    it('loads the app module and says what is wrong with one that exports no app', async () => {
      expect(typeof (await loadApp(resolve(REPO, APP))).resolve).toBe('function');
      await expect(loadApp(resolve(REPO, APP), 'nothing')).rejects.toThrow('expected "nothing" to be a StatefulFunctions registry');
      await expect(loadApp('no/such/app.ts')).rejects.toThrow('--app no/such/app.ts: no such file');
    });

    it('exits 2 with the reason and the usage on malformed input', () => {
      const run = spawnSync(resolve(REPO, 'node_modules', '.bin', 'tsx'), ['runtime-lambda/local/cli.ts', 'dev', '--aws-local', '--app', APP, '--parallelization', '0'], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('statefun: --parallelization must be an integer from 1 to 10, got "0"');
      expect(run.stderr).toContain('usage: npx tsx runtime-lambda/local/cli.ts dev --aws-local');
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
      const options = parseDevArgs(['dev', '--aws-local', '--app', APP, '--prefix', prefix, '--ingress', `${ingress}=test/journal:test/text`, '--egress', 'test/out', '--once']);
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
