import * as fs from 'node:fs';
import * as path from 'node:path';
import { type App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { FraudDetectionStack } from '../../infra/lib/FraudDetectionStack';
import { StatefulFunctions } from '../../infra/lib/StatefulFunctions';
import { TEST_ENV, testApp } from './helpers';

/** Synthesizes `app` with cdk-nag's AwsSolutions and Serverless packs; returns the findings left unacknowledged. */
function synthFindings(app: App): string {
  try {
    app.synth();
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}

describe('cdk-nag: AwsSolutions + Serverless', () => {
  test('FraudDetectionStack (functions as a Lambda): no unacknowledged finding', () => {
    // Prepare
    const app = testApp({ nag: true });
    new FraudDetectionStack(app, 'FraudDetection', { env: TEST_ENV });
    // Act + Assess
    expect(synthFindings(app)).toBe('');
  });

  test('FraudDetectionStack with embedded functions, bundled: no finding, and the registry is in the dispatcher bundle', () => {
    const app = testApp({ nag: true, bundle: true });
    const stack = new FraudDetectionStack(app, 'FraudDetection', { env: TEST_ENV, functionsMode: 'embedded' });
    expect(synthFindings(app)).toBe('');
    expect(stack.functions).toBeUndefined();

    const assembly = app.synth();
    const bundles = fs
      .readdirSync(assembly.directory)
      .filter((dir) => dir.startsWith('asset.') && fs.existsSync(path.join(assembly.directory, dir, 'index.js')))
      .map((dir) => fs.readFileSync(path.join(assembly.directory, dir, 'index.js'), 'utf8'));
    expect(bundles).toHaveLength(4); // dispatcher + relay + delayed delivery + reconciler, no functions Lambda
    const withRegistry = bundles.filter((bundle) => bundle.includes('STATEFUN_EMBEDDED_EXPORT'));
    expect(withRegistry).toHaveLength(1); // the dispatcher's only
    const code = withRegistry[0]!;
    for (const fnType of ['fraud/transaction-manager', 'fraud/count', 'fraud/merchant-scorer', 'fraud/model', 'STATEFUN_EMBEDDED_EXPORT']) expect(code).toContain(fnType);
  });

  test('StatefulFunctions with a customer managed key and HTTP functions: no unacknowledged finding', () => {
    const app = testApp({ nag: true });
    const stack = new Stack(app, 'Cmk', { env: TEST_ENV });
    new StatefulFunctions(stack, 'App', {
      encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
      remoteFunctions: [{ kind: 'http', functionType: 'shop/*', url: 'https://functions.example.com/statefun' }],
    });
    expect(synthFindings(app)).toBe('');
  });

  test('an unacknowledged finding does fail the synthesis (the check is live)', () => {
    const app = testApp({ nag: true });
    const stack = new Stack(app, 'Bad', { env: TEST_ENV });
    new (require('aws-cdk-lib/aws-sqs').Queue)(stack, 'Plain', { enforceSSL: false });
    expect(synthFindings(app)).toContain('AwsSolutions-SQS4');
  });
});
