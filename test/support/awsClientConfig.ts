import { EMULATOR_ENV } from './emulators';

/** What an AWS SDK v3 client needs to talk to the test emulators. */
export interface EmulatorClientConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/**
 * Client config for DynamoDB in integration tests (DynamoDB Local, or `AWS_ENDPOINT_URL`).
 *
 * @example
 * const client = new DynamoDBClient(dynamoClientConfig());
 */
export function dynamoClientConfig(): EmulatorClientConfig {
  return config(EMULATOR_ENV.dynamodb);
}

/**
 * Client config for Kinesis, SQS, Scheduler and DynamoDB Streams in integration tests
 * (moto, or `AWS_ENDPOINT_URL`).
 *
 * @example
 * const kinesis = new KinesisClient(awsClientConfig());
 */
export function awsClientConfig(): EmulatorClientConfig {
  return config(EMULATOR_ENV.aws);
}

function config(endpointVar: string): EmulatorClientConfig {
  const endpoint = process.env[endpointVar];
  if (!endpoint) {
    throw new Error(
      `${endpointVar} is not set: integration tests get their endpoints from the jest "integration" project's globalSetup; run them with "npx jest --selectProjects integration" (see docs/local-aws.md)`,
    );
  }
  return {
    endpoint,
    region: process.env[EMULATOR_ENV.region] ?? 'us-east-1',
    credentials: {
      accessKeyId: process.env[EMULATOR_ENV.accessKeyId] ?? 'statefuntest',
      secretAccessKey: process.env[EMULATOR_ENV.secretAccessKey] ?? 'statefuntest',
    },
  };
}
