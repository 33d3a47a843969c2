/**
 * Cloud assemblies for the plan command's tests: one small app (an image on Fargate, an AMI on an Auto
 * Scaling group), synthesized in variants into temporary directories, as `cdk synth` writes them.
 * Each synth of an app with an AmiBake costs about a second: tests synthesize each variant once.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack, Stage } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { AmiBake, BakeStep, BaseImage, ContainerImageBuild, ImmutableAutoScalingGroup, ImmutableFargateService, ReplacementStrategy } from '../../src';

export interface Variant {
  /** The web site's one line: a code change changes it. */
  readonly site: string;
  /** The bake's shell step: an AMI step change changes it. */
  readonly step: string;
  /** A second stage, `Prod`, with the same stack: a nested assembly. */
  readonly prodStage?: boolean;
}

export const BASE: Variant = { site: '<h1>hello</h1>', step: 'dnf install -y nginx' };

const roots: string[] = [];

/** A temporary directory, removed by `cleanUp()`. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  roots.push(dir);
  return dir;
}

export function cleanUp(): void {
  for (const dir of roots.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

class WebStack extends Stack {
  constructor(scope: Construct, id: string, variant: Variant, context: string) {
    super(scope, id);
    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const image = new ContainerImageBuild(this, 'Image', { directory: context });
    new ImmutableFargateService(this, 'Web', { vpc, artifact: image });
    const ami = new AmiBake(this, 'Ami', {
      baseImage: BaseImage.fromAmiId('ami-0c614dee691cbbf37'),
      steps: [BakeStep.shell([variant.step])],
    });
    new ImmutableAutoScalingGroup(this, 'Fleet', {
      vpc,
      artifact: ami,
      instanceType: new ec2.InstanceType('t3.micro'),
      minCapacity: 2,
      maxCapacity: 4,
      replacement: ReplacementStrategy.replaceGroup({ timeout: Duration.minutes(15) }),
    });
  }
}

/** Synthesizes a variant into a new directory and returns it (a `cdk.out`). */
export function synthesize(variant: Variant): string {
  const context = tempDir('plan-context-');
  fs.writeFileSync(path.join(context, 'Dockerfile'), 'FROM public.ecr.aws/nginx/nginx:1.27\nCOPY index.html /usr/share/nginx/html/index.html\n');
  fs.writeFileSync(path.join(context, 'index.html'), `${variant.site}\n`);
  const outdir = tempDir('plan-cdk-out-');
  const app = new App({ outdir });
  new WebStack(app, 'Web', variant, context);
  if (variant.prodStage) {
    const prod = new Stage(app, 'Prod');
    new WebStack(prod, 'Web', variant, context);
  }
  app.synth();
  return outdir;
}
