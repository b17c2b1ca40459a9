import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { StatefulFunctions, type StatefulFunctionsProps } from '../../infra/lib/StatefulFunctions';
import { DELAYED_DELIVERY_METRICS, DISPATCHER_METRICS, RECONCILER_METRICS, RELAY_METRICS, SERVICE_NAMES } from '../../runtime-lambda/handlers/observability/telemetry';
import { cfn, testStack } from './helpers';

const HTTP = { remoteFunctions: [{ kind: 'http', functionType: 'shop/*', url: 'https://functions.example.com/statefun' }] } satisfies StatefulFunctionsProps;

function build(props: StatefulFunctionsProps = HTTP) {
  const stack = testStack();
  const app = new StatefulFunctions(stack, 'App', props);
  return { stack, app, template: Template.fromStack(stack) };
}

type CfnFunction = { Properties: { Timeout: number; Environment: { Variables: Record<string, unknown> } } };

/** The template resource of `fn`. */
function functionResource(stack: Stack, template: Template, fn: lambda.IFunction): CfnFunction {
  return template.findResources('AWS::Lambda::Function')[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)] as CfnFunction;
}

/** The dashboard's widgets, with every CloudFormation token of its body replaced by "TOKEN". */
function dashboardWidgets(template: Template): { type: string; properties: { title: string; metrics?: unknown[][]; alarms?: unknown[] } }[] {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as { Properties: { DashboardBody: unknown } }[];
  const body = dashboard!.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  return JSON.parse(body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('')).widgets;
}

describe('Construct: StatefulFunctions, observability (Powertools logs, metrics and traces; alarms; dashboard)', () => {
  const { stack, app, template } = build();
  const lambdas = () => [
    [app.dispatcher, SERVICE_NAMES.dispatcher],
    [app.relay, SERVICE_NAMES.relay],
    [app.delayedDelivery, SERVICE_NAMES.delayedDelivery],
  ] as const;

  it('configures Powertools on each Lambda: its service name, the metrics namespace, INFO logs, active tracing', () => {
    expect(app.metricsNamespace).toBe('StatefulFunctions/Test');
    for (const [fn, service] of lambdas()) {
      expect(functionResource(stack, template, fn).Properties.Environment.Variables).toMatchObject({
        POWERTOOLS_SERVICE_NAME: service,
        POWERTOOLS_METRICS_NAMESPACE: 'StatefulFunctions/Test',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
      expect(functionResource(stack, template, fn).Properties).toMatchObject({ TracingConfig: { Mode: 'Active' } });
    }
  });

  it('takes the namespace and the log level from its props', () => {
    const custom = build({ ...HTTP, metricsNamespace: 'Shop/Orders', logLevel: 'DEBUG' });
    expect(custom.app.metricsNamespace).toBe('Shop/Orders');
    for (const fn of [custom.app.dispatcher, custom.app.relay, custom.app.delayedDelivery]) {
      expect(functionResource(custom.stack, custom.template, fn).Properties.Environment.Variables).toMatchObject({ POWERTOOLS_METRICS_NAMESPACE: 'Shop/Orders', POWERTOOLS_LOG_LEVEL: 'DEBUG' });
    }
  });

  it('turns tracing off on request: no active tracing, POWERTOOLS_TRACE_ENABLED=false, and no X-Ray permission', () => {
    const untraced = build({ ...HTTP, tracing: false });
    for (const fn of [untraced.app.dispatcher, untraced.app.relay, untraced.app.delayedDelivery]) {
      const properties = functionResource(untraced.stack, untraced.template, fn).Properties as CfnFunction['Properties'] & { TracingConfig?: unknown };
      expect(properties.Environment.Variables).toMatchObject({ POWERTOOLS_TRACE_ENABLED: 'false' });
      expect(properties.TracingConfig).toBeUndefined(); // Lambda's default: no X-Ray segment of its own
    }
    expect(JSON.stringify(untraced.template.findResources('AWS::IAM::Policy'))).not.toContain('xray:');
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).toContain('xray:PutTraceSegments');
    expect(functionResource(stack, template, app.relay).Properties.Environment.Variables).not.toHaveProperty('POWERTOOLS_TRACE_ENABLED');
  });

  it("graphs the handlers' metrics under the namespace and service dimension the Lambdas emit them with", () => {
    const graphed = dashboardWidgets(template)
      .flatMap((w) => w.properties.metrics ?? [])
      .filter((m) => m[0] === 'StatefulFunctions/Test')
      .map((m) => `${String(m[2])}=${String(m[3])} ${String(m[1])}`);
    expect(graphed.sort()).toEqual(
      [
        ...[DISPATCHER_METRICS.messagesApplied, DISPATCHER_METRICS.duplicatesDropped, DISPATCHER_METRICS.deadLetters, DISPATCHER_METRICS.commitConflicts, DISPATCHER_METRICS.addressesNotCommitted, DISPATCHER_METRICS.messagesParked, DISPATCHER_METRICS.addressesBackingOff, DISPATCHER_METRICS.backoffAgeSeconds].map(
          (name) => `service=${SERVICE_NAMES.dispatcher} ${name}`,
        ),
        ...[RELAY_METRICS.messagesRelayed, RELAY_METRICS.egressRecordsRelayed, RELAY_METRICS.deadLetters, RELAY_METRICS.timersScheduled, RELAY_METRICS.timersCancelled].map((name) => `service=${SERVICE_NAMES.relay} ${name}`),
        ...Object.values(DELAYED_DELIVERY_METRICS).map((name) => `service=${SERVICE_NAMES.delayedDelivery} ${name}`),
        ...Object.values(RECONCILER_METRICS).map((name) => `service=${SERVICE_NAMES.reconciler} ${name}`),
      ].sort(),
    );
    expect(app.metricCommitConflicts()).toMatchObject({ namespace: 'StatefulFunctions/Test', metricName: 'CommitConflicts', dimensions: { service: 'statefun-dispatcher' }, statistic: 'Sum' });
  });

  it('needs no cloudwatch:PutMetricData: metrics leave as embedded metric format in the logs', () => {
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('cloudwatch:');
  });

  it('alarms on errors and throttles of the delayed-delivery Lambda, exposed and on the dashboard', () => {
    const fnName = cfn(stack, app.delayedDelivery.functionName);
    for (const [alarm, metricName] of [
      [app.alarms.delayedDeliveryErrors, 'Errors'],
      [app.alarms.delayedDeliveryThrottles, 'Throttles'],
    ] as const) {
      const found = template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { MetricName: metricName, Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName', Value: fnName }], Statistic: 'Sum', Period: 300, Threshold: 1 },
      });
      expect(Object.keys(found)).toEqual([stack.getLogicalId(alarm.node.defaultChild as cloudwatch.CfnAlarm)]);
    }
    expect(app.metricDelayedDeliveryErrors()).toMatchObject({ metricName: 'Errors', namespace: 'AWS/Lambda', statistic: 'Sum' });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 13);
    const alarmWidget = dashboardWidgets(template).find((w) => w.type === 'alarm')!;
    expect(alarmWidget.properties.alarms).toHaveLength(Object.keys(app.alarms).length);
    const titles = dashboardWidgets(template).filter((w) => JSON.stringify(w.properties.metrics ?? []).includes('"Throttles"')).map((w) => w.properties.title);
    expect(titles).toEqual(['Errors and throttles']);
    const throttles = dashboardWidgets(template).find((w) => w.properties.title === 'Errors and throttles')!.properties.metrics!.filter((m) => m[1] === 'Throttles');
    expect(throttles).toHaveLength(3);
  });

  it("sets the delay queue's visibility timeout to 6 times the delayed-delivery function's timeout", () => {
    const timeout = functionResource(stack, template, app.delayedDelivery).Properties.Timeout;
    expect(timeout).toBe(30);
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 6 * timeout, RedrivePolicy: { deadLetterTargetArn: cfn(stack, app.deadLetterQueue.queueArn), maxReceiveCount: 10 } });
  });
});
