/**
 * Every constant of the deploy-time model (`model.ts`), in seconds, each with where it comes from:
 * - `aws-default`: a default AWS documents (a setting nobody changed);
 * - `aws-figure`: a behaviour or figure AWS documents;
 * - `library`: a setting of this library (its source file);
 * - `app`: a setting or property of the user's app (its Dockerfile, its start and stop times);
 * - `assumption`: no AWS figure exists; a range from public reports, named in `basis`.
 *
 * A constant is a range, low to high: the model adds ranges, it never picks a point inside one.
 * Shared by the plan command (its estimate) and the benchmark (bench/src/deploy-time.ts): one model.
 *
 * Internal: never exported from the package index.
 */

/** Where a constant comes from. */
export type SourceKind = 'aws-default' | 'aws-figure' | 'library' | 'app' | 'assumption';

/** A duration in seconds, as a range. */
export interface Span {
  readonly low: number;
  readonly high: number;
}

/** A constant of the model. */
export interface Constant extends Span {
  /** What takes this long. */
  readonly what: string;
  readonly kind: SourceKind;
  /** What the source says, or, for an assumption, what the range rests on. */
  readonly basis: string;
  /** Where it says so. */
  readonly urls: string[];
}

function c(what: string, low: number, high: number, kind: SourceKind, basis: string, ...urls: string[]): Constant {
  return { what, low, high, kind, basis, urls };
}

const ELB_HEALTH = 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html';
const ELB_DRAIN = 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay';
const ECS_DRAIN = 'https://docs.aws.amazon.com/AmazonECS/latest/developerguide/load-balancer-connection-draining.html';
const ECS_HEALTH = 'https://docs.aws.amazon.com/AmazonECS/latest/developerguide/load-balancer-healthcheck.html';

/** The constants, by name. */
export const CONSTANTS = {
  // ---------------------------------------------------------------------------------------------
  // The CDK CLI and CloudFormation
  cliChangeSet: c('the CDK CLI publishes the changed assets (a small build context zip) and the template, creates and executes a change set, until CloudFormation starts updating resources',
    15, 45, 'assumption', 'no AWS figure for change-set creation; the CLI skips assets already published (their hash is their key)',
    'https://docs.aws.amazon.com/cdk/v2/guide/deploy.html'),
  cliNoChange: c('the CDK CLI compares the template and parameters with the deployed stack and skips it: "(no changes)", no change set',
    2, 10, 'aws-figure', 'aws-cdk CLI: a stack whose template, parameters and tags equal the deployed ones is skipped (canSkipDeploy); two read calls',
    'https://github.com/aws/aws-cdk-cli/blob/main/packages/%40aws-cdk/toolkit-lib/lib/api/deployments/deploy-stack.ts'),
  cfnCleanup: c('CloudFormation\'s cleanup (UPDATE_COMPLETE_CLEANUP_IN_PROGRESS): it deletes what the update replaced, such as an old task-definition revision',
    2, 10, 'assumption', 'no AWS figure; deletes of resources that end at once',
    'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-monitor-stack.html'),
  cfnEcsStable: c('CloudFormation notices that the ECS service reached a steady state (its deployment COMPLETED)',
    0, 15, 'assumption', 'CloudFormation\'s polling interval is not documented; the AWS CLI\'s services-stable waiter polls every 15 s',
    'https://docs.aws.amazon.com/cli/latest/reference/ecs/wait/services-stable.html'),

  // ---------------------------------------------------------------------------------------------
  // This library's runtime
  runtimeStart: c('CloudFormation invokes the stack\'s runtime function (a cold start), which looks the fingerprint up and starts one job (StartBuild, CreateImage)',
    1, 5, 'assumption', 'no AWS figure; one Lambda invocation of a small Node.js bundle and two or three API calls'),
  runtimeReuse: c('the runtime finds the fingerprint built already and signals the artifact\'s wait at once: nothing is built, nothing waits',
    1, 5, 'library', 'src/internal/runtime: an artifact whose fingerprint exists is answered in the same invocation (docs/aws-behaviour.md rows 9, 12)'),
  runtimeNotice: c('the job\'s end reaches the runtime (a CodeBuild or Image Builder state-change event), which signals the wait; CloudFormation moves on',
    2, 15, 'assumption', 'EventBridge delivers these events best effort with no documented latency; the runtime also checks every pending job each minute (src/internal/runtime/runtime.ts), so a lost event costs at most 60 s',
    'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event.html'),
  lookup: c('an artifact imported by fingerprint (fromFingerprint) is looked up: one DescribeImages call through the runtime',
    1, 5, 'library', 'src/artifacts/*/lookup-job.ts: one call, answered in the same invocation'),
  taskDefinition: c('CloudFormation registers the new task-definition revision and starts the service\'s deployment',
    1, 5, 'assumption', 'no AWS figure; two API calls'),

  // ---------------------------------------------------------------------------------------------
  // CodeBuild
  codebuildQueue: c('the build waits in CodeBuild\'s queue', 0, 0, 'aws-figure',
    'builds queue only when the account\'s concurrent builds of that compute type are all running (a new account may have a quota of 1: docs/aws-behaviour.md row 20)',
    'https://docs.aws.amazon.com/codebuild/latest/userguide/builds-working.html'),
  codebuildProvisioningAmd64: c('CodeBuild provisions an on-demand x86-64 build environment (PROVISIONING: a new host and the AL2023 standard image)',
    60, 120, 'assumption', 'no AWS figure; public reports: "exceeds 90 seconds per run" (aws-codebuild-docker-images#526), over 240 s where the image is not cached on the build fleet (#424)',
    'https://github.com/aws/aws-codebuild-docker-images/issues/526', 'https://github.com/aws/aws-codebuild-docker-images/issues/424'),
  codebuildProvisioningArm64: c('CodeBuild provisions an on-demand ARM build environment (PROVISIONING, AL2023 aarch64 standard image)',
    60, 190, 'assumption', 'no AWS figure; public reports: 180 to 190 s for the aarch64 standard 3.0 image in one region (aws-codebuild-docker-images#793), else as x86-64',
    'https://github.com/aws/aws-codebuild-docker-images/issues/793'),
  codebuildSetup: c('DOWNLOAD_SOURCE, INSTALL and PRE_BUILD: the build context from S3, docker login',
    2, 10, 'assumption', 'no AWS figure; public report: each of these phases under 1 s (aws-codebuild-docker-images#793), plus the context download',
    'https://github.com/aws/aws-codebuild-docker-images/issues/793'),
  codebuildFinish: c('POST_BUILD, UPLOAD_ARTIFACTS and FINALIZING', 2, 10, 'assumption', 'no AWS figure; no artifacts to upload'),
  buildkitStart: c('the build starts its BuildKit builder (docker-container driver): pulls the pinned moby/buildkit image from ECR Public and boots it',
    5, 20, 'assumption', 'no AWS figure; one image of about 30 MB',
    'https://docs.docker.com/build/builders/drivers/docker-container/'),
  cacheExport: c('the build writes its cache: the layers of every stage not in the repository yet (mode=max)',
    3, 15, 'assumption', 'no AWS figure; after a one-line change only the changed step\'s layers are new, and a registry is not sent the blobs it holds',
    'https://aws.amazon.com/blogs/containers/announcing-remote-cache-support-in-amazon-ecr-for-buildkit-clients/'),
  loadIntoDaemon: c('@cdklabs/deploy-time-build: the image is exported into the Docker daemon (--output type=docker), then tagged and pushed with docker push',
    5, 20, 'assumption', 'no AWS figure; an image tarball written and loaded once'),
  responseFromBuild: c('@cdklabs/deploy-time-build: the build\'s POST_BUILD phase answers CloudFormation itself (curl to the response URL)',
    0, 2, 'assumption', 'no AWS figure; one HTTPS call'),
  assetExists: c('the CDK CLI finds the image asset\'s tag in the bootstrap repository and neither builds nor pushes it',
    1, 3, 'aws-figure', 'cdk-assets: a container image asset whose destination exists is not built (destinationAlreadyExists)',
    'https://github.com/aws/aws-cdk-cli/blob/main/packages/%40aws-cdk/cdk-assets-lib/lib/private/handlers/container-images.ts'),

  // ---------------------------------------------------------------------------------------------
  // Fargate, ECS and the load balancer
  fargateTaskStart: c('Fargate starts a task: capacity, network interface, image pull (no image cache on Fargate), container start',
    20, 60, 'assumption', 'no AWS figure; public reports: 20 to 40 s pulling from within a VPC (containers-roadmap#358), about 60 s for a 250 MB image (containers-roadmap#696)',
    'https://github.com/aws/containers-roadmap/issues/358', 'https://github.com/aws/containers-roadmap/issues/696'),
  targetRegistration: c('ECS registers the new task with the target group (Elb.RegistrationInProgress)', 1, 5, 'assumption', 'no AWS figure', ELB_HEALTH),
  firstHealthCheck: c('a newly registered target counts healthy after one passing health check: the wait is up to one health-check interval',
    0, 0, 'aws-figure', 'ELB: "After your target is registered, it must pass one health check to be considered healthy"; ECS: the healthy threshold applies only when a target recovers from unhealthy. The high end is the target group\'s interval (ALB default 30 s)',
    ELB_HEALTH, ECS_HEALTH),
  ecsNotice: c('ECS sees the new tasks healthy and deregisters the old ones', 0, 15, 'assumption', 'ECS monitors the load balancer; no AWS figure', ECS_HEALTH),
  drain: c('the old tasks drain: ECS waits until the load balancer reports them unused, after the deregistration delay',
    0, 0, 'aws-default', 'ALB default deregistration delay 300 s (0 to 3600); ECS waits for the target\'s UNUSED state, and the target shows draining until the delay has passed',
    ELB_DRAIN, ECS_DRAIN),
  stopTimeout: c('ECS stops an old task: SIGTERM, and SIGKILL after the container\'s stop timeout if the app has not exited',
    0, 30, 'aws-default', 'Fargate\'s default stopTimeout is 30 s (at most 120 s); an app that exits on SIGTERM ends sooner',
    'https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html', ECS_DRAIN),
  trafficShift: c('ECS moves the listener rule\'s weights to the new target group (blue/green, canary, linear)', 1, 15, 'assumption', 'no AWS figure; one ModifyRule per step',
    'https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-blue-green.html'),

  // ---------------------------------------------------------------------------------------------
  // EC2, Auto Scaling
  instanceLaunch: c('EC2 launches an instance and it boots to the end of its user data (Amazon Linux 2023)',
    25, 90, 'assumption', 'no AWS figure; public measurements: about 26 s from launch to SSH on current instance types, whatever the type (brevdev/ec2-coldboot-research), longer with an encrypted root volume (martysweet.co.uk, 2023)',
    'https://github.com/brevdev/ec2-coldboot-research', 'https://www.martysweet.co.uk/ec2-launch-times/'),
  readinessProbe: c('the instance probes its own health every 5 s and signals CloudFormation (SignalResource)', 0, 5, 'library',
    'src/deployments/autoscaling/readiness-script.ts: a probe every 5 s, then one signal'),
  instanceTerminate: c('Auto Scaling terminates an old instance after it drained: shutdown and termination', 20, 60, 'assumption', 'no AWS figure'),

  // ---------------------------------------------------------------------------------------------
  // EC2 Image Builder
  imageBuilderApi: c('the runtime creates the bake\'s components and recipe, and the image (CreateImage)', 2, 10, 'assumption', 'no AWS figure; a few API calls'),
  buildInstance: c('Image Builder launches the build instance and waits for it to answer through Systems Manager (PENDING, CREATING, BUILDING starts)',
    120, 300, 'assumption', 'no AWS figure; an instance launch (see instanceLaunch) plus the SSM agent\'s registration and Image Builder\'s own setup; public reports put a whole small bake at about 30 minutes (aws-rfdk#292)',
    'https://github.com/aws/aws-rfdk/pull/292'),
  createAmi: c('Image Builder stops the build instance and creates the AMI: a snapshot of its root volume',
    180, 600, 'assumption', 'no AWS figure; snapshot time grows with the data written to the volume'),
  testInstance: c('Image Builder launches a test instance from the new AMI and waits for Systems Manager (TESTING)',
    120, 300, 'assumption', 'no AWS figure, as buildInstance; skipped when the bake has no test steps (imageTestsEnabled false: Image Builder runs tests only when enabled, and enables them by default)',
    'https://docs.aws.amazon.com/imagebuilder/latest/APIReference/API_ImageTestsConfiguration.html'),
  cfnImageStable: c('CloudFormation notices that an AWS::ImageBuilder::Image it created is AVAILABLE (it polls the image)', 0, 30, 'assumption',
    'CloudFormation\'s polling interval is not documented'),
  distributeLocal: c('Image Builder distributes the AMI in its own region: tags, launch permissions (DISTRIBUTING)', 10, 60, 'assumption', 'no AWS figure'),
  copyRegion: c('Image Builder copies the AMI to another region (a snapshot copy), all regions at once', 300, 1800, 'assumption',
    'no AWS figure; a cross-region snapshot copy takes minutes to tens of minutes with the volume\'s size',
    'https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/CopyingAMIs.html'),
} as const;

/** The name of a constant. */
export type ConstantName = keyof typeof CONSTANTS;

/** ALB and ECS defaults the model needs as numbers (seconds), each with its source above. */
export const AWS_DEFAULTS = {
  /** ALB target group health-check interval for instance and IP targets (`firstHealthCheck`). */
  healthCheckIntervalSeconds: 30,
  /** ALB healthy threshold. */
  healthyThresholdCount: 5,
  /** ALB deregistration delay (`drain`). */
  deregistrationDelaySeconds: 300,
  /** Fargate container stop timeout (`stopTimeout`). */
  stopTimeoutSeconds: 30,
} as const;
