export { EMBEDDED_FUNCTIONS_MODULE, LAMBDA_RUNTIME, StatefulFunctions } from './StatefulFunctions';
export type {
  EgressProps,
  EmbeddedFunctionsProps,
  HttpFunctionsProps,
  IStatefulFunctions,
  IngressProps,
  KinesisEgressProps,
  KinesisIngressProps,
  LambdaFunctionsProps,
  RemoteFunctionsProps,
  SqsEgressProps,
  StatefulFunctionsAlarms,
  StatefulFunctionsProps,
} from './StatefulFunctions';
export { StatefulFunctionsPropsError } from './StatefulFunctionsPropsError';
export { FraudDetectionStack } from './FraudDetectionStack';
export type { FraudDetectionStackProps } from './FraudDetectionStack';
