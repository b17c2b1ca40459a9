import { DEFAULT_FRAUD_WINDOW_MS } from '../../../functions/fraud-detection/config';
import { expectedAlerts } from '../../../functions/fraud-detection/expectedAlerts';
import { type SampleRecord, generateSample } from '../../../functions/fraud-detection/sample';
import { schedulerFireTimeMs } from '../../../runtime-lambda/core/timerDelivery';
import { runFraud } from '../../bench/aws/fraud';
import { awsClientConfig, dynamoClientConfig } from '../../support/awsClientConfig';

const accountOf = (record: SampleRecord) => (record.kind === 'transaction' ? record.transaction.accountId : record.report.accountId);

/*
 * The fraud demo's 30-day window on emulated AWS, through the production timer path: the
 * relay's SchedulerDelayScheduler makes a one-time schedule on moto's EventBridge Scheduler
 * for each fraud report, and the test clock runs each one through its real Kinesis target
 * (templated, the bundle as JSON text) once its minute has come on the simulated timeline.
 * The dispatcher and relay are the real handlers under the LocalPoller, on DynamoDB Local.
 */
describe('Time on AWS: the fraud demo 30-day window through EventBridge Scheduler (moto + DynamoDB Local)', () => {
  it('counts a report inside its 30 days and stops counting it once its schedule has fired', async () => {
    // Prepare: the window account and one fraud-burst account, every record of theirs.
    const sample = generateSample();
    const burstAccount = sample.records.find((r) => r.kind === 'confirmed-fraud' && r.report.accountId !== sample.windowCase.accountId)!;
    const accounts = new Set([sample.windowCase.accountId, accountOf(burstAccount)]);
    const records = sample.records.filter((r) => accounts.has(accountOf(r)));
    const reports = records.filter((r) => r.kind === 'confirmed-fraud');
    const dynamo = dynamoClientConfig();
    const aws = awsClientConfig();

    // Act
    const result = await runFraud(
      { dynamodb: dynamo.endpoint, aws: aws.endpoint, region: aws.region, credentials: aws.credentials },
      { records, delays: 'scheduler' },
    );

    // Assess: runFraud has checked the alerts equal expectedAlerts(records) and that every schedule ran.
    const alerted = result.alerts.map((a) => a.transactionId);
    expect(alerted).toContain(sample.windowCase.withinTransactionId);
    expect(alerted).not.toContain(sample.windowCase.afterTransactionId);
    expect(expectedAlerts(records, { fraudWindowMs: Number.MAX_SAFE_INTEGER }).map((a) => a.transactionId)).toContain(sample.windowCase.afterTransactionId);
    expect(result.alerts).toHaveLength(expectedAlerts(records).length);
    expect(result.schedules!.map((s) => s.atMs).sort()).toEqual(reports.map((r) => schedulerFireTimeMs(r.timeMs + DEFAULT_FRAUD_WINDOW_MS, r.timeMs)).sort());
  }, 180_000);
});
