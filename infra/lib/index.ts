export { EMBEDDED_FUNCTIONS_MODULE, LAMBDA_RUNTIME, StatefulFunctions } from './StatefulFunctions';
export type {
  EgressProps,
  EmbeddedFunctionsProps,
  EventBridgeEgressProps,
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
export type { KafkaAuth, KafkaEgressProps, KafkaIamAuth, KafkaIngressCommonProps, KafkaIngressProps, KafkaSaslAuth, KafkaTopicProps, MskIngressProps, SelfManagedKafkaIngressProps } from './kafka';
export type { StatefunModuleKafkaProps, StatefunModuleProps } from './statefunModule';
export { StatefulFunctionsPropsError } from './StatefulFunctionsPropsError';
export { FraudDetectionStack } from './FraudDetectionStack';
export type { FraudDetectionStackProps } from './FraudDetectionStack';
