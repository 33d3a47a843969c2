import { Stack, StackProps } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { Fingerprint } from '../src';

/**
 * The example app's stack: what `npx cdk synth` synthesizes at the root of the repository.
 */
export class ExampleStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    // The fingerprint of this example's sources: the name an artifact built from them would carry.
    const fingerprint = Fingerprint.ofDirectory(__dirname, { exclude: ['*.js', '*.d.ts'] });
    new ssm.StringParameter(this, 'ExamplesFingerprint', {
      description: 'Fingerprint of the example sources',
      stringValue: fingerprint.hex,
    });
  }
}
