import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

describe('cdk synth (the CLI, as a child process)', () => {
  test('synthesizes the app offline: no AWS credentials, no Docker, no lookups', () => {
    // Prepare: dummy account and region, no credentials, Docker unreachable.
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'statefun-synth-'));
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && !k.startsWith('CDK_')) env[k] = v;
    Object.assign(env, {
      CDK_DEFAULT_ACCOUNT: '123456789012',
      CDK_DEFAULT_REGION: 'us-east-1',
      CDK_DOCKER: '/nonexistent/docker',
      CDK_DISABLE_CLI_TELEMETRY: 'true',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    const started = Date.now();

    // Act
    const result = spawnSync('npx', ['cdk', 'synth', '--no-lookups', '--no-notices', '--quiet', '--output', outdir], { cwd: ROOT, env, encoding: 'utf8', timeout: 170_000 });
    const seconds = (Date.now() - started) / 1000;

    // Assess
    expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
    const template = JSON.parse(fs.readFileSync(path.join(outdir, 'FraudDetection.template.json'), 'utf8')) as { Resources: Record<string, { Type: string }> };
    const types = Object.values(template.Resources).map((r) => r.Type);
    // dispatcher, relay, delayed delivery, reconciler, functions
    expect(types.filter((t) => t === 'AWS::Lambda::Function')).toHaveLength(5);
    // message stream + 2 ingresses → dispatcher, outbox stream → relay, delay queue → delayed delivery
    expect(types.filter((t) => t === 'AWS::Lambda::EventSourceMapping')).toHaveLength(5);
    expect(types.filter((t) => t === 'AWS::Scheduler::ScheduleGroup')).toHaveLength(1);
    expect(seconds).toBeLessThan(120);
    console.log(`cdk synth: ${seconds.toFixed(1)} s`);
  }, 180_000);
});
