/**
 * The CDK app (`cdk.json`: `npx tsx infra/bin/app.ts`): the fraud-detection stack, or with
 * `-c mskFunctionsUrl=<url>` the Amazon MSK example (`MskExample`, docs/kafka.md "On Amazon
 * MSK"; `-c mskBootstrapServers=<brokers>` adds its Kafka egress).
 *
 * Context (`-c key=value`):
 * - `functionsMode`: `lambda` (default) or `embedded`
 * - `scoringUrl`: the merchant scoring service (default: none, the fallback score)
 * - `removalPolicy`: `destroy` (default) or `retain`
 * - `stackName`: default `FraudDetection`
 */
import { App, RemovalPolicy } from 'aws-cdk-lib';
import { FraudDetectionStack } from '../lib/FraudDetectionStack';
import { MskExampleStack } from '../lib/MskExampleStack';

const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return value === undefined || value === null || value === '' ? undefined : String(value);
};

const functionsMode = context('functionsMode') ?? 'lambda';
if (functionsMode !== 'lambda' && functionsMode !== 'embedded') {
  throw new Error(`context functionsMode is ${JSON.stringify(functionsMode)}: use -c functionsMode=lambda or -c functionsMode=embedded`);
}
const removal = context('removalPolicy') ?? 'destroy';
if (removal !== 'destroy' && removal !== 'retain') {
  throw new Error(`context removalPolicy is ${JSON.stringify(removal)}: use -c removalPolicy=destroy or -c removalPolicy=retain`);
}
const scoringUrl = context('scoringUrl');

new FraudDetectionStack(app, context('stackName') ?? 'FraudDetection', {
  description: 'Stateful Functions on AWS: the fraud-detection example',
  functionsMode,
  removalPolicy: removal === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  ...(scoringUrl ? { scoringUrl } : {}),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

const mskFunctionsUrl = context('mskFunctionsUrl');
if (mskFunctionsUrl) {
  const bootstrapServers = context('mskBootstrapServers');
  new MskExampleStack(app, 'MskExample', {
    description: 'Stateful Functions on AWS: Kafka on Amazon MSK',
    functionsUrl: mskFunctionsUrl,
    ...(bootstrapServers ? { bootstrapServers } : {}),
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
}
