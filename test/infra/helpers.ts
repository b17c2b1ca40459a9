import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { StatefulFunctions, type StatefulFunctionsProps } from '../../infra/lib/StatefulFunctions';
import { StatefulFunctionsPropsError } from '../../infra/lib/StatefulFunctionsPropsError';

/** The feature flags of `cdk.json`, so tests synthesize what `cdk synth` does. */
export const CDK_CONTEXT: Record<string, unknown> = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context;

export const TEST_ENV = { account: '123456789012', region: 'us-east-1' };

/**
 * An App writing to a temporary directory. `bundle: false` skips esbuild (the Lambda code
 * becomes a placeholder asset): for tests about the template, not the code.
 */
export function testApp(opts: { bundle?: boolean; nag?: boolean } = {}): App {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'statefun-infra-'));
  const app = new App({ outdir, context: { ...CDK_CONTEXT, ...(opts.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) } });
  if (opts.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return app;
}

/** A plain stack in a fresh non-bundling app. */
export function testStack(): Stack {
  return new Stack(testApp(), 'Test', { env: TEST_ENV });
}

/** The statements of the default policy of `role` (a construct whose CfnPolicy is `<role>/DefaultPolicy`). */
export function policyStatements(template: Template, stack: Stack, roleLogicalId: string): unknown[] {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleLogicalId }] } });
  const docs = Object.values(policies).map((p) => (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement);
  expect(docs).toHaveLength(1);
  void stack;
  return docs[0]!;
}

/** `stack.resolve(token)`: what a token becomes in the template (`{Ref}`, `{Fn::GetAtt}`...). */
export function cfn(stack: Stack, value: unknown): unknown {
  return stack.resolve(value);
}

export const XRAY_STATEMENT = { Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Effect: 'Allow', Resource: '*' };

/** The logical id of `role` (an `iam.Role`) in `stack`. */
export function roleLogicalId(stack: Stack, role: iam.IRole | undefined): string {
  return stack.getLogicalId((role as iam.Role).node.defaultChild as iam.CfnRole);
}

/**
 * Asserts `app`'s Scheduler execution role: assumable by Scheduler only, for the app's
 * schedule group and account only (confused-deputy conditions); `kinesis:PutRecord` on the
 * message stream and `sqs:SendMessage` on the dead-letter queue, nothing else.
 */
export function expectSchedulerRoleScoped(template: Template, stack: Stack, app: StatefulFunctions): void {
  const role = template.findResources('AWS::IAM::Role')[roleLogicalId(stack, app.schedulerRole)] as { Properties: { AssumeRolePolicyDocument: unknown } };
  expect(role.Properties.AssumeRolePolicyDocument).toEqual({
    Version: '2012-10-17',
    Statement: [
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': TEST_ENV.account, 'aws:SourceArn': cfn(stack, app.scheduleGroup.scheduleGroupArn) } },
      },
    ],
  });
  expect(policyStatements(template, stack, roleLogicalId(stack, app.schedulerRole))).toEqual([
    { Action: 'kinesis:PutRecord', Effect: 'Allow', Resource: cfn(stack, app.messageStream.streamArn) },
    { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: cfn(stack, app.deadLetterQueue.queueArn) },
  ]);
}

/** The error a `StatefulFunctions` built from `props` throws at synth time (the test fails if it throws none, or another). */
export function propsError(props: (stack: Stack) => StatefulFunctionsProps): StatefulFunctionsPropsError {
  const stack = testStack();
  try {
    new StatefulFunctions(stack, 'App', props(stack));
  } catch (error) {
    expect(error).toBeInstanceOf(StatefulFunctionsPropsError);
    return error as StatefulFunctionsPropsError;
  }
  throw new Error('expected a StatefulFunctionsPropsError');
}
