import { CfnOutput, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';

/**
 * A public Application Load Balancer with an HTTP listener on port 80, and an output with its URL:
 * the front door of an example web site.
 */
export function addPublicLoadBalancer(stack: Stack, id: string, vpc: ec2.IVpc): elbv2.ApplicationListener {
  const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, `${id}LoadBalancer`, { vpc, internetFacing: true });
  loadBalancer.setAttribute('routing.http.drop_invalid_header_fields.enabled', 'true');
  Validations.of(loadBalancer).acknowledge(
    {
      id: 'AwsSolutions-ELB2',
      reason: 'The example keeps to the deployment; in production, send access logs to a bucket with loadBalancer.logAccessLogs(bucket).',
    },
    {
      id: 'AwsSolutions-EC23',
      reason: 'A public web site: the load balancer is meant to be reachable from anywhere on port 80, and only it reaches the servers behind it.',
    },
  );
  new CfnOutput(stack, `${id}Url`, { value: `http://${loadBalancer.loadBalancerDnsName}/` });
  return loadBalancer.addListener('Http', { port: 80, open: true });
}
