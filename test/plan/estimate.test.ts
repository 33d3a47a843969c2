import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { cleanUp, tempDir } from './fixtures';
import { ContainerImageBuild, ContainerPlatform, ImmutableFargateService } from '../../src';
import { main } from '../../src/plan/cli';
import type { Plan, StackPlan } from '../../src/plan/plan';
import { CONSTANTS } from '../../src/plan/time/constants';
import type { StackEstimate } from '../../src/plan/time/estimate';

/**
 * The plan says how long (issue 28, item 4): for each stack, the phases the deploy-time model predicts
 * for what the plan found, with the health checks and drain of the stack's own target group, as a
 * range; `--json` carries it.
 */

interface Web {
  readonly site: string;
  readonly deregistrationDelay?: Duration;
  readonly platform?: ContainerPlatform;
}

function synthesize(props: Web): string {
  const context = tempDir('estimate-context-');
  fs.writeFileSync(path.join(context, 'Dockerfile'), 'FROM public.ecr.aws/nginx/nginx:1.27\nCOPY index.html /usr/share/nginx/html/index.html\n');
  fs.writeFileSync(path.join(context, 'index.html'), `${props.site}\n`);
  const outdir = tempDir('estimate-cdk-out-');
  const app = new App({ outdir });
  const stack = new Stack(app, 'Web');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'Lb', { vpc, internetFacing: true });
  const listener = loadBalancer.addListener('Http', { port: 80, open: true });
  const image = new ContainerImageBuild(stack, 'Image', { directory: context, platform: props.platform });
  new ImmutableFargateService(stack, 'Service', { vpc, artifact: image, containerPort: 80, listener, deregistrationDelay: props.deregistrationDelay });
  app.synth();
  return outdir;
}

let base: string;
let again: string;
let change: string;
let slowDrain: string;

beforeAll(() => {
  base = synthesize({ site: 'hello' });
  again = synthesize({ site: 'hello' });
  change = synthesize({ site: 'hello, world' });
  slowDrain = synthesize({ site: 'hello, world', deregistrationDelay: Duration.minutes(2), platform: ContainerPlatform.LINUX_ARM64 });
});
afterAll(() => cleanUp());

async function run(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['plan', ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { stdout, stderr, code };
}

async function web(...args: string[]): Promise<StackPlan & { estimate: StackEstimate }> {
  const result = await run(...args, '--json');
  expect(result.stderr).toEqual('');
  const stack = (JSON.parse(result.stdout) as Plan).stacks.find((s) => s.name === 'Web')!;
  expect(stack.estimate).not.toBeNull();
  return stack as StackPlan & { estimate: StackEstimate };
}

describe('the plan\'s estimate', () => {
  test('a one-line change: the build on CodeBuild with the build cache, then the rolling replacement with the stack\'s own target group (first check within 10 s, 30 s of draining)', async () => {
    // WHEN
    const { estimate } = await web(base, change);
    // THEN
    expect(estimate.kind).toEqual('model');
    const bases = estimate.phases.map((p) => p.basis);
    expect(bases.slice(0, 4)).toEqual(['cliChangeSet', 'runtimeStart', 'codebuildQueue', 'codebuildProvisioningAmd64']);
    expect(bases).toEqual(expect.arrayContaining(['buildkitStart', 'cacheExport', 'runtimeNotice', 'fargateTaskStart', 'cfnEcsStable', 'cfnCleanup']));
    expect(estimate.phases.find((p) => p.basis.startsWith('firstHealthCheck'))).toMatchObject({ lowSeconds: 0, highSeconds: 10, basis: 'firstHealthCheck; interval 10 s (the template)' });
    expect(estimate.phases.find((p) => p.basis.startsWith('drain'))).toMatchObject({ lowSeconds: 30, highSeconds: 30 });
    // The range is the sum of its phases'; the new version serves before the old tasks have drained.
    expect(estimate.lowSeconds).toEqual(estimate.phases.reduce((s, p) => s + p.lowSeconds, 0));
    expect(estimate.highSeconds).toEqual(estimate.phases.reduce((s, p) => s + p.highSeconds, 0));
    expect(estimate.servingHighSeconds!).toBeLessThan(estimate.highSeconds - 30);
    expect(estimate.notes.join('\n')).toMatch(/Dockerfile steps are those of an app of unknown build steps/);
  });

  test('the template\'s own drain, platform and stop timeout count: 120 s of draining, an ARM build environment', async () => {
    const { estimate } = await web(base, slowDrain);
    expect(estimate.phases.find((p) => p.basis.startsWith('drain'))).toMatchObject({ lowSeconds: 120, highSeconds: 120 });
    expect(estimate.phases.map((p) => p.basis)).toContain('codebuildProvisioningArm64');
    expect(estimate.phases.find((p) => p.basis.startsWith('stopTimeout'))!.basis).toMatch(/^stopTimeout 30 s/);
  });

  test('a no-op: the CDK CLI skips the stack, nothing is built and nothing waits', async () => {
    const { estimate } = await web(base, again);
    expect(estimate.phases.map((p) => p.basis)).toEqual(['cliNoChange']);
    expect([estimate.lowSeconds, estimate.highSeconds]).toEqual([CONSTANTS.cliNoChange.low, CONSTANTS.cliNoChange.high]);
    expect(estimate.servingLowSeconds).toBeUndefined();
  });

  test('the table says it is a model, its range, when the new version serves, and the phases', async () => {
    const { stdout, code } = await run(base, change);
    expect(code).toEqual(0);
    expect(stdout).toMatch(/\nDeploy time \(a model from AWS defaults and assumptions, not a measurement\): \d+\.\d to \d+\.\d min; the new version takes traffic after \d+(\.\d)? to \d+(\.\d)? (min|s)\n {2}SECONDS +PHASE \(longest path\)\n/);
    expect(stdout).toMatch(/\n {2}30 s +the old tasks drain \(deregistration delay 30 s\)\n/);
    expect(stdout).toMatch(/\n {2}Assumed: /);
  });
});
