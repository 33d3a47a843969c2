import { Template } from 'aws-cdk-lib/assertions';
import { AMI_A, fixture } from './fixtures';
import { addImmutableAutoScalingGroup } from '../../../examples/autoscaling';
import { AmiArtifact } from '../../../src/artifacts/ami/artifact';
import { describeFindings, validate } from '../../kit';

describe('examples/autoscaling.ts', () => {
  test('puts the fleet behind a public ALB, valid and clean', () => {
    // GIVEN
    const { stack, vpc } = fixture();

    // WHEN
    const fleet = addImmutableAutoScalingGroup(stack, AmiArtifact.fromAmiId(AMI_A), vpc);

    // THEN
    const { findings } = validate(stack);
    expect(describeFindings(findings)).toEqual([]);
    Template.fromStack(stack).hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { HealthCheckType: 'ELB', MinSize: '2' });
    expect(fleet.launchTemplate.versionNumber).toBeDefined();
  });
});
