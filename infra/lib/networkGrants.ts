import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';

/** What a Lambda function in a VPC needs for its network interfaces: the managed policy AWSLambdaVPCAccessExecutionRole's actions, which the construct's own roles do not take. */
export const FUNCTION_IN_VPC_ACTIONS = ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'];

/** What a Kafka event source mapping needs, with the function's role, for the network interfaces it creates in the cluster's (or the `vpc`'s) subnets, as Lambda's guide lists them. */
export const KAFKA_MAPPING_ACTIONS = ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeVpcs', 'ec2:DeleteNetworkInterface', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups'];

/**
 * Grants `fn` the EC2 network-interface `actions` (which take no narrower resource than `*`)
 * and acknowledges cdk-nag's wildcard finding for them.
 */
export function grantNetworkInterfaces(fn: lambda.Function, actions: readonly string[]): void {
  iam.Grant.addToPrincipal({ grantee: fn, actions: [...actions], resourceArns: ['*'] });
  Validations.of(fn.role!).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'X-Ray (active tracing) and the network interfaces of a Lambda in a VPC or of its Kafka mappings (ec2:CreateNetworkInterface and its kin) take no narrower resource; every other statement names its resource.',
  });
}
