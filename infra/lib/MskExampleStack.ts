import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as msk from 'aws-cdk-lib/aws-msk';
import type { Construct } from 'constructs';
import { StatefulFunctions } from './StatefulFunctions';

/** MSK's broker port for IAM access control (SASL/OAUTHBEARER over TLS). */
const MSK_IAM_PORT = 9098;

/** Props of {@link MskExampleStack}. */
export interface MskExampleStackProps extends StackProps {
  /** The functions' StateFun endpoint, e.g. `https://functions.example.com/statefun`. */
  readonly functionsUrl: string;
  /**
   * The cluster's IAM bootstrap brokers, known once it exists:
   * `aws kafka get-bootstrap-brokers --cluster-arn <MskClusterArn> --query BootstrapBrokerStringSaslIam --output text`.
   * @default - none: no Kafka egress until the second deploy
   */
  readonly bootstrapServers?: string;
}

/**
 * Stateful Functions on Amazon MSK (docs/kafka.md, "On Amazon MSK"): a VPC, a two-broker
 * cluster with IAM access control, the `orders` topic into `shop/cart`, the `shop/receipts`
 * egress to the `receipts` topic and `shop/events` to an EventBridge bus.
 */
export class MskExampleStack extends Stack {
  readonly app: StatefulFunctions;
  readonly cluster: msk.CfnCluster;

  constructor(scope: Construct, id: string, props: MskExampleStackProps) {
    super(scope, id, props);
    // Private subnets with a NAT gateway: the Kafka mapping calls Lambda and STS from the
    // cluster's subnets, and the relay calls Kinesis, DynamoDB, SQS, S3 and Scheduler.
    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const brokers = new ec2.SecurityGroup(this, 'Brokers', { vpc, description: 'MSK brokers, and the network interfaces of the Kafka mapping' });
    // The mapping's interfaces use the cluster's security group: it must let itself in.
    brokers.addIngressRule(brokers, ec2.Port.tcp(MSK_IAM_PORT), 'the Lambda Kafka mapping');
    const relay = new ec2.SecurityGroup(this, 'Relay', { vpc, description: 'The Stateful Functions relay and reconciler' });
    brokers.addIngressRule(relay, ec2.Port.tcp(MSK_IAM_PORT), 'the relay producing to the egress topics');

    this.cluster = new msk.CfnCluster(this, 'Cluster', {
      clusterName: 'shop',
      kafkaVersion: '3.6.0',
      numberOfBrokerNodes: 2,
      brokerNodeGroupInfo: {
        instanceType: 'kafka.t3.small',
        clientSubnets: vpc.privateSubnets.map((subnet) => subnet.subnetId),
        securityGroups: [brokers.securityGroupId],
        storageInfo: { ebsStorageInfo: { volumeSize: 10 } },
      },
      clientAuthentication: { sasl: { iam: { enabled: true } } },
      encryptionInfo: { encryptionInTransit: { clientBroker: 'TLS', inCluster: true } },
    });

    this.app = new StatefulFunctions(this, 'App', {
      remoteFunctions: [{ kind: 'http', functionType: 'shop/*', url: props.functionsUrl }],
      ingresses: [{ kind: 'msk', clusterArn: this.cluster.attrArn, topics: [{ topic: 'orders', functionType: 'shop/cart', valueType: 'shop/Order' }], consumerGroupId: 'shop' }],
      egresses: {
        ...(props.bootstrapServers
          ? { 'shop/receipts': { kind: 'kafka' as const, topics: ['receipts'], bootstrapServers: props.bootstrapServers, mskClusterArn: this.cluster.attrArn, auth: { mechanism: 'AWS_MSK_IAM' as const } } }
          : {}),
        'shop/events': { kind: 'eventBridge', eventBus: new events.EventBus(this, 'Events'), source: 'shop' },
      },
      relayVpc: vpc,
      relaySecurityGroups: [relay],
    });
    new CfnOutput(this, 'MskClusterArn', { value: this.cluster.attrArn });
  }
}
