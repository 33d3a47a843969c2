import { CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { IContainerArtifact, ImmutableFargateService } from '../src';

/**
 * Runs the example's container image behind a public Application Load Balancer. The task definition
 * names the image by digest: a new build is a new revision and a rolling replacement (new tasks
 * healthy before old ones stop, rolled back on failure); an unchanged build changes nothing.
 */
export function addImmutableFargateService(stack: Stack, artifact: IContainerArtifact, vpc: ec2.IVpc): ImmutableFargateService {
  const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'WebLoadBalancer', { vpc, internetFacing: true });
  loadBalancer.setAttribute('routing.http.drop_invalid_header_fields.enabled', 'true');
  Validations.of(loadBalancer).acknowledge(
    {
      id: 'AwsSolutions-ELB2',
      reason: 'The example keeps to the service; in production, send access logs to a bucket with loadBalancer.logAccessLogs(bucket).',
    },
    {
      id: 'AwsSolutions-EC23',
      reason: 'A public web site: the load balancer is meant to be reachable from anywhere on port 80, and only it reaches the tasks.',
    },
  );
  const listener = loadBalancer.addListener('Http', { port: 80, open: true });

  const service = new ImmutableFargateService(stack, 'Web', {
    vpc,
    artifact,
    containerPort: 8080,
    listener,
    loadBalancerHealthCheck: { path: '/health', interval: Duration.seconds(15), healthyThresholdCount: 2 },
    environment: { LOG_LEVEL: 'info' },
  });

  new CfnOutput(stack, 'WebUrl', { value: `http://${loadBalancer.loadBalancerDnsName}/` });
  return service;
}
