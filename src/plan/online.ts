/**
 * Online mode: what is deployed is what the account of the current credentials runs. Templates come
 * from CloudFormation (`GetTemplate`, the original template); whether a fingerprint exists is asked
 * the way the deploy-time runtime asks it, through the same functions: the image tag `fp-<fingerprint>`
 * in the artifact's repository (`findImageDigest`), an AVAILABLE Image Builder image and AMI tagged
 * with the fingerprint (`findReusable`).
 *
 * Loaded only in online mode (its imports are the AWS SDK clients the user installs for it).
 *
 * Internal to the plan command: never exported from the package.
 */
import { CloudFormationClient, DescribeStackResourceCommand, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { EC2Client } from '@aws-sdk/client-ec2';
import { DescribeRegistryCommand, ECRClient } from '@aws-sdk/client-ecr';
import { ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { parse as parseYaml } from 'yaml';
import type { AssemblyStack, Template } from './assembly';
import { PlanError } from './errors';
import type { ArtifactMetadata } from './metadata';
import type { Deployed, Existence } from './plan';
import { findReusable } from '../artifacts/ami/bake-job';
import { findImageDigest } from '../artifacts/container/build-job';
import { TAG_PREFIX } from '../artifacts/container/buildspec';
import { JobFailure } from '../internal/runtime/job';

/** The clients of one region. Tests replace them with mocks (aws-sdk-client-mock mocks every instance). */
interface RegionClients {
  readonly cloudformation: CloudFormationClient;
  readonly ecr: ECRClient;
  readonly ec2: EC2Client;
  readonly imagebuilder: ImagebuilderClient;
}

/** The permissions online mode needs, as the README lists them. */
export const ONLINE_PERMISSIONS = [
  'cloudformation:GetTemplate',
  'cloudformation:DescribeStackResource',
  'ecr:DescribeImages',
  'ecr:DescribeRegistry',
  'ec2:DescribeImages',
  'imagebuilder:GetImage',
];

/** The account of the current credentials as what is deployed. */
export function online(): Deployed {
  const clients = new Map<string, RegionClients>();
  const clientsOf = (stack: AssemblyStack): RegionClients => {
    const key = stack.region ?? '(default)';
    let found = clients.get(key);
    if (!found) {
      const config = stack.region ? { region: stack.region } : {};
      found = {
        cloudformation: new CloudFormationClient(config),
        ecr: new ECRClient(config),
        ec2: new EC2Client(config),
        imagebuilder: new ImagebuilderClient(config),
      };
      clients.set(key, found);
    }
    return found;
  };
  return {
    mode: 'online',
    template: (stack) => deployedTemplate(clientsOf(stack), stack),
    exists: (stack, artifact) => (artifact.kind === 'ami' ? amiExists(clientsOf(stack), stack, artifact) : imageExists(clientsOf(stack), stack, artifact)),
  };
}

async function deployedTemplate(clients: RegionClients, stack: AssemblyStack): Promise<Template | undefined> {
  const got = await ask(stack, 'cloudformation:GetTemplate', async () => {
    try {
      return await clients.cloudformation.send(new GetTemplateCommand({ StackName: stack.stackName, TemplateStage: 'Original' }));
    } catch (e) {
      if (isMissingStack(e)) return undefined;
      throw e;
    }
  });
  if (!got?.TemplateBody) return undefined;
  try {
    return JSON.parse(got.TemplateBody) as Template;
  } catch {
    // A stack deployed from a YAML template (not by the CDK).
    return parseYaml(got.TemplateBody) as Template;
  }
}

async function amiExists(clients: RegionClients, stack: AssemblyStack, artifact: ArtifactMetadata): Promise<Existence> {
  const found = await ask(stack, 'ec2:DescribeImages and imagebuilder:GetImage', () =>
    findReusable(artifact.fingerprint, { ec2: clients.ec2, imagebuilder: clients.imagebuilder }));
  return found ? { exists: true, note: `reuses ${found.amiId}` } : { exists: false };
}

async function imageExists(clients: RegionClients, stack: AssemblyStack, artifact: ArtifactMetadata): Promise<Existence> {
  const repository = artifact.lookup?.repository;
  let name: string | undefined;
  let account = stack.account;
  if (typeof repository === 'string') {
    name = repository;
  } else if (typeof (repository as { Ref?: unknown } | undefined)?.Ref === 'string') {
    // A repository of this stack: its name is known once CloudFormation created it.
    const logicalId = (repository as { Ref: string }).Ref;
    const resource = await ask(stack, 'cloudformation:DescribeStackResource', async () => {
      try {
        const request = new DescribeStackResourceCommand({ StackName: stack.stackName, LogicalResourceId: logicalId });
        return (await clients.cloudformation.send(request)).StackResourceDetail;
      } catch (e) {
        if (isMissingStack(e)) return undefined;
        throw e;
      }
    });
    if (!resource?.PhysicalResourceId) return { exists: false, note: `its repository (${logicalId}) is not deployed yet, so the image is built.` };
    name = resource.PhysicalResourceId;
    account = account ?? /^arn:[^:]+:cloudformation:[^:]+:(\d{12}):/.exec(resource.StackId ?? '')?.[1];
  } else {
    const tag = `${TAG_PREFIX}${artifact.fingerprint.slice(0, 16)}...`;
    return { exists: false, note: `its repository (${JSON.stringify(repository)}) is known only at deploy time, so whether ${tag} exists was not asked.` };
  }
  if (!account) {
    account = await ask(stack, 'ecr:DescribeRegistry', async () => (await clients.ecr.send(new DescribeRegistryCommand({}))).registryId);
  }
  const region = stack.region ?? (await clients.ecr.config.region());
  try {
    const digest = await ask(stack, 'ecr:DescribeImages', () =>
      findImageDigest(clients.ecr, { registryId: account!, region, name: name! }, `${TAG_PREFIX}${artifact.fingerprint}`, artifact.path));
    return digest ? { exists: true, note: `reuses ${name}@${digest}` } : { exists: false };
  } catch (e) {
    // What would fail the deploy (a missing repository, an image index) is said, not hidden.
    if (e instanceof JobFailure) return { exists: false, note: e.message.replace(`${artifact.path}: `, '') };
    throw e;
  }
}

/** A stack (or a resource of it) that does not exist: `ValidationError`, "... does not exist". */
function isMissingStack(e: unknown): boolean {
  return (e as Error).name === 'ValidationError' && /does not exist/.test((e as Error).message);
}

/** Runs a call, turning missing credentials, region or permissions into a message that names them. */
async function ask<T>(stack: AssemblyStack, permission: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    const name = (e as Error).name;
    const message = (e as Error).message;
    if (name === 'CredentialsProviderError' || /Could not load credentials/.test(message)) {
      throw new PlanError(`No AWS credentials (${message}). Set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role is attached; or pass BEFORE to plan offline against another cloud assembly.`);
    }
    if (/Region is missing/i.test(message)) {
      throw new PlanError(`No AWS region for stack ${stack.name}, which is environment-agnostic: set AWS_REGION (or a region in your AWS profile), or give the stack an env.`);
    }
    if (['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnrecognizedClientException', 'InvalidClientTokenId', 'ExpiredToken', 'ExpiredTokenException'].includes(name)) {
      throw new PlanError(`${permission} for stack ${stack.stackName} was refused (${name}: ${message}). The plan needs ${ONLINE_PERMISSIONS.join(', ')}, and credentials that are valid.`);
    }
    throw e;
  }
}
