/**
 * The Node.js runtime the deploy-time function runs on: aws-cdk-lib's `Runtime.NODEJS_LATEST` (the
 * newest Node.js runtime Lambda offers in every region), and cdk-nag's AwsSolutions-L1, which
 * compares with the newest Node.js runtime aws-cdk-lib knows at all. `.ci/newest` runs the security
 * baseline against the newest aws-cdk-lib, which knows one newer than its NODEJS_LATEST.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AmiBake, BakeStep, BaseImage } from '../../src';
import { describeFindings, newTestApp, validate } from '../kit';

const ENV = { account: '111111111111', region: 'eu-west-1' };

/** A stack whose bake needs the deploy-time runtime, in an app that runs AwsSolutions. */
function bakeStack() {
  const app = newTestApp();
  const stack = new Stack(app, 'Stack', { env: ENV });
  new AmiBake(stack, 'Bake', { baseImage: BaseImage.fromAmiId('ami-0a1b2c3d4e5f67890'), steps: [BakeStep.shell(['echo baked'])] });
  return stack;
}

/** The major version of a Node.js runtime's name (`nodejs24.x`: 24). */
function major(name: string): number {
  return Number(/^nodejs(\d+)\.x$/.exec(name)?.[1]);
}

/** The runtime function's runtime, and the reason of its AwsSolutions-L1 acknowledgement if any (recorded as `Annotation::<id>`). */
function runtimeFunction(stack: Stack): { runtime: string; acknowledged?: string } {
  const fn = stack.node.findAll().find((c): c is lambda.CfnFunction => c instanceof lambda.CfnFunction && c.node.path.includes('CdkImmutableDeploysRuntime'));
  if (!fn) throw new Error('no runtime function');
  const acknowledgements = [fn, fn.node.scope!].flatMap((c) => c.node.metadata)
    .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.entries(m.data as Record<string, string>));
  const l1 = acknowledgements.find(([id]) => id === 'AwsSolutions-L1' || id.endsWith('::AwsSolutions-L1'));
  return { runtime: stack.resolve(fn.runtime), acknowledged: l1?.[1] };
}

describe('the runtime function\'s Node.js runtime', () => {
  test('is aws-cdk-lib\'s NODEJS_LATEST, never older than the Node.js 24 the bundle targets; AwsSolutions-L1 passes, acknowledged only when aws-cdk-lib knows a newer Node.js runtime', () => {
    // GIVEN the aws-cdk-lib the tests run with: the floor of the peer range (2.271.0, whose newest Node.js runtime is its
    // NODEJS_LATEST), or with .ci/newest the newest (2.278.0 knows nodejs26.x, newer than its NODEJS_LATEST)
    const stack = bakeStack();
    const newest = lambda.Runtime.ALL.map((r) => r.name).filter((name) => /^nodejs\d+\.x$/.test(name))
      .sort((a, b) => major(a) - major(b)).pop()!;

    // WHEN
    const { findings } = validate(stack);
    const { runtime, acknowledged } = runtimeFunction(stack);

    // THEN
    expect(runtime).toEqual(lambda.Runtime.NODEJS_LATEST.name);
    expect(major(runtime)).toBeGreaterThanOrEqual(24);
    expect(describeFindings(findings)).toEqual([]);
    if (major(newest) > major(runtime)) {
      expect(acknowledged).toContain(newest);
    } else {
      expect(acknowledged).toBeUndefined();
    }
  });

  test('when aws-cdk-lib knows a newer Node.js runtime than its NODEJS_LATEST (nodejs26.x in 2.278.0), AwsSolutions-L1 is acknowledged on the function, naming both', () => {
    // GIVEN a Node.js runtime newer than NODEJS_LATEST, as aws-cdk-lib 2.278.0 declares NODEJS_26_X (every Runtime joins Runtime.ALL, which cdk-nag reads)
    const newer = `nodejs${Math.max(...lambda.Runtime.ALL.map((r) => major(r.name) || 0)) + 2}.x`;
    new lambda.Runtime(newer, lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });
    const stack = bakeStack();

    // WHEN
    const { findings } = validate(stack);
    const { runtime, acknowledged } = runtimeFunction(stack);

    // THEN the function stays on NODEJS_LATEST, L1 does not fail synth, and the reason says why
    expect(runtime).toEqual(lambda.Runtime.NODEJS_LATEST.name);
    expect(describeFindings(findings)).toEqual([]);
    expect(acknowledged).toContain(`Runtime.NODEJS_LATEST (${runtime})`);
    expect(acknowledged).toContain(newer);
  });
});
