/**
 * The fraud-detection functions served as one AWS Lambda (`lambda.handler`), for the
 * dispatcher's Lambda endpoint: payload `{"request": "<base64 ToFunction>"}`, result
 * `{"response": "<base64 FromFunction>"}` (`runtime-lambda/sdk/lambda.ts`).
 *
 * Configured from the environment (`fraudConfig`): `FRAUD_SCORING_URL` (required),
 * `FRAUD_SCORING_TIMEOUT_MS`, `FRAUD_ALERT_THRESHOLD`. The same module can be embedded in
 * the dispatcher: it exports the registry as `functions`.
 *
 * @example
 * // infra: new NodejsFunction(this, 'Functions', { entry: 'functions/fraud-detection/lambda.ts', handler: 'handler' })
 */
import { lambdaHandler } from '../../runtime-lambda/sdk/lambda';
import { fraudConfig } from './config';
import { fraudFunctions } from './functions';

/** The registry of the four functions, configured from the environment. */
export const functions = fraudFunctions(fraudConfig());

/** The Lambda entry point. */
export const handler = lambdaHandler(functions);
