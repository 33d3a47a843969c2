import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AmiBake, BakeStep, BaseImage } from '../../../src';
import { jobOf } from '../../internal/runtime/jobs';

/**
 * The bake's test stage (issue 28, item 2): Image Builder runs its test stage, a test instance launched
 * from the new AMI, only when the image's tests are enabled, and enables them by default. A bake without
 * test steps turns them off, so that no instance is launched to test nothing; one with test steps runs them.
 */
describe('AmiBake test stage', () => {
  test('without test steps, the image\'s tests are off: no test instance is launched', () => {
    // GIVEN
    const stack = new Stack();
    // WHEN
    new AmiBake(stack, 'Bake', { baseImage: BaseImage.fromAmiId('ami-0a1b2c3d4e5f67890'), steps: [BakeStep.shell(['dnf install -y nginx'])] });
    // THEN
    expect(jobOf(Template.fromStack(stack), 'Default/Bake').Spec.TestsEnabled).toEqual('false');
  });

  test('with test steps, the image\'s tests are on', () => {
    // GIVEN
    const stack = new Stack();
    // WHEN
    new AmiBake(stack, 'Bake', {
      baseImage: BaseImage.fromAmiId('ami-0a1b2c3d4e5f67890'),
      steps: [BakeStep.shell(['dnf install -y nginx'])],
      testSteps: [BakeStep.shell(['test -x /usr/sbin/nginx'])],
    });
    // THEN
    expect(jobOf(Template.fromStack(stack), 'Default/Bake').Spec.TestsEnabled).toEqual('true');
  });
});
