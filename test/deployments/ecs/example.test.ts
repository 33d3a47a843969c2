import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { artifact } from './fixtures';
import { addImmutableFargateService } from '../../../examples/fargate';
import { describeFindings, newTestApp, validate } from '../../kit';

describe('examples/fargate.ts', () => {
  test('puts the artifact behind a public load balancer, valid and clean', () => {
    // GIVEN
    const app = newTestApp();
    const stack = new Stack(app, 'Example', { env: { account: '111111111111', region: 'us-east-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    vpc.addFlowLog('FlowLog');

    // WHEN
    const web = addImmutableFargateService(stack, artifact(stack), vpc);

    // THEN
    expect(web.targetGroup).toBeDefined();
    const { template, findings } = validate(stack);
    expect(describeFindings(findings)).toEqual([]);
    Template.fromJSON(template.toJSON()).hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
    template.hasResourceProperties('AWS::ECS::Service', { LoadBalancers: [{ ContainerName: 'app', ContainerPort: 8080, TargetGroupArn: { Ref: 'WebTargetGroupFE6444AE' } }] });
  });
});
