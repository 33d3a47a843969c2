/**
 * Online mode: what is deployed is what each stack's account runs, read as `cdk diff` reads it (the
 * stack's bootstrap lookup role, or the current credentials when they are of its account; see
 * `credentials.ts`). Each stack's status first (`DescribeStacks`), then its template (`GetTemplate`,
 * the original template), its nested stacks through their parent's resources, recursively. Whether a
 * fingerprint exists is asked the way the deploy-time runtime asks it, through the same functions:
 * the image tag `fp-<fingerprint>` in the artifact's repository (`findImageDigest`), an AVAILABLE
 * Image Builder image and AMI tagged with the fingerprint (`findReusable`).
 *
 * Loaded only in online mode (its imports are the AWS SDK clients the user installs for it).
 *
 * Internal to the plan command: never exported from the package.
 */
import { CloudFormationClient, DescribeStackResourceCommand, DescribeStacksCommand, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { parse as parseYaml } from 'yaml';
import type { AssemblyStack, Template } from './assembly';
import { nestedStackIds } from './assembly';
import { ask, isMissing } from './aws';
import { Access, Accounts } from './credentials';
import type { ArtifactMetadata } from './metadata';
import { modelOf } from './model';
import type { Deployed, DeployedStack, Existence, RemovedStack } from './plan';
import { isFailed, readStatus, RETRY_WORDS } from './stack-status';
import { findReusable } from '../artifacts/ami/bake-records-job';
import { TAG_PREFIX } from '../artifacts/container/buildspec';
import { findImageDigest } from '../artifacts/container/image-state-job';
import { JobFailure } from '../internal/runtime/job';
import { LOOKUP_RESOURCE_TYPE, RESULT_KEY } from '../internal/runtime/protocol';

export { ONLINE_PERMISSIONS } from './aws';

/** The clients of one region and credentials. Tests replace them with mocks (aws-sdk-client-mock mocks every instance). */
interface Clients {
  readonly cloudformation: CloudFormationClient;
  readonly ecr: ECRClient;
  readonly ec2: EC2Client;
  readonly imagebuilder: ImagebuilderClient;
}

/** A stack as read: how, its id in CloudFormation (the stack ARN), and what the plan made of it. */
interface Read {
  readonly access: Access;
  readonly clients: Clients;
  readonly id?: string;
  readonly deployed: DeployedStack;
}

/** The accounts as what is deployed. */
export function online(): Deployed {
  const accounts = new Accounts();
  const clients = new Map<string, Clients>();
  const reads = new Map<AssemblyStack, Promise<Read>>();
  const clientsOf = (access: Access): Clients => {
    const key = `${access.region}/${access.readWith}`;
    let found = clients.get(key);
    if (!found) {
      const config = { region: access.region, ...(access.credentials ? { credentials: access.credentials } : {}) };
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
  const read = (stack: AssemblyStack): Promise<Read> => {
    let found = reads.get(stack);
    if (!found) {
      found = stack.nested ? readNested(stack, read(stack.nested.parent)) : readTop(stack, accounts, clientsOf);
      reads.set(stack, found);
    }
    return found;
  };
  return {
    mode: 'online',
    stack: async (stack) => (await read(stack)).deployed,
    exists: async (stack, artifact) => {
      const r = await read(stack);
      return artifact.kind === 'ami' ? amiExists(r, stack, artifact) : imageExists(r, stack, artifact);
    },
    removed: async (after) => {
      const removed: RemovedStack[] = [];
      for (const stack of after) {
        const r = await read(stack);
        if (!r.id || !r.deployed.template) continue;
        const kept = nestedStackIds(stack.template);
        for (const logicalId of nestedStackIds(r.deployed.template).filter((id) => !kept.includes(id))) {
          removed.push(...await removedNested(r, stack.name, r.deployed.template, logicalId));
        }
      }
      return removed;
    },
  };
}

/** A top-level stack: whose credentials read it, then its status, then its template. */
async function readTop(stack: AssemblyStack, accounts: Accounts, clientsOf: (access: Access) => Clients): Promise<Read> {
  const access = await accounts.access(stack);
  const clients = clientsOf(access);
  const where = { account: access.account, region: access.region, readWith: access.readWith };
  if (access.notPlanned) return { access, clients, deployed: { change: 'not-planned', ...where, notes: [access.notPlanned] } };
  const described = await ask(stack.stackName, 'cloudformation:DescribeStacks', async () => {
    try {
      return (await clients.cloudformation.send(new DescribeStacksCommand({ StackName: stack.stackName }))).Stacks?.[0];
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }, access.readWith);
  if (!described?.StackId) {
    return { access, clients, deployed: { change: 'create', ...where, notes: [...access.notes, `${stack.stackName} is not deployed: every resource is new.`] } };
  }
  return readStatusAndTemplate(stack, access, clients, described.StackId, described.StackStatus ?? 'UNKNOWN', described.StackStatusReason);
}

/** A nested stack: through its parent's resource, when its parent is deployed. */
async function readNested(stack: AssemblyStack, parentRead: Promise<Read>): Promise<Read> {
  const parent = await parentRead;
  const { access, clients } = parent;
  const where = { account: access.account, region: access.region, readWith: access.readWith };
  const logicalId = stack.nested!.logicalId;
  if (parent.deployed.change === 'not-planned') return { access, clients, deployed: { ...parent.deployed, notes: [`not planned with ${stack.nested!.parent.name}: ${parent.deployed.notes[0]}`] } };
  if (!parent.id || !parent.deployed.template) {
    return { access, clients, deployed: { change: 'create', ...where, notes: [`created with ${stack.nested!.parent.name}: every resource is new.`] } };
  }
  const physicalId = await physicalIdOf(parent, stack.nested!.parent.name, logicalId);
  if (!physicalId) return { access, clients, deployed: { change: 'create', ...where, notes: ['a new nested stack: every resource is new.'] } };
  const described = await ask(stack.name, 'cloudformation:DescribeStacks', async () =>
    (await clients.cloudformation.send(new DescribeStacksCommand({ StackName: physicalId }))).Stacks?.[0], access.readWith);
  return readStatusAndTemplate(stack, access, clients, physicalId, described?.StackStatus ?? 'UNKNOWN', described?.StackStatusReason);
}

async function readStatusAndTemplate(
  stack: AssemblyStack, access: Access, clients: Clients, id: string, status: string, reason: string | undefined,
): Promise<Read> {
  const reading = readStatus(status, reason, stack.nested !== undefined);
  const base = { account: access.account, region: access.region, readWith: access.readWith, status };
  const notes = [...access.notes, ...(reading.note ? [reading.note] : [])];
  if (!reading.compare) return { access, clients, id, deployed: { ...base, change: reading.change, notes } };
  const template = await templateOf(clients, stack.name, id, access.readWith);
  const failed = reading.paused && template ? await failedJobs(clients, stack.name, id, template, access.readWith) : undefined;
  return { access, clients, id, deployed: { ...base, change: template ? reading.change : 'create', template, notes, ...(failed ? { failed } : {}) } };
}

/**
 * The artifacts of a paused stack (a failed `--no-rollback` update) that the deploy builds again, by
 * the logical id of their wait. The runtime signals a wait when its job ended, failed or not (always
 * SUCCESS): a failed job fails its result lookup (`job-result`), whose status reason is the job's.
 * A wait fails only when no signal came within its timeout.
 */
async function failedJobs(clients: Clients, name: string, id: string, template: Template, readWith: string): Promise<DeployedStack['failed']> {
  const failed: { [logicalId: string]: string } = {};
  const results = resultLookupsOf(template);
  const why = (resource: { ResourceStatus?: string; ResourceStatusReason?: string }) => {
    const reason = (resource.ResourceStatusReason ?? '').slice(0, 300);
    return `${resource.ResourceStatus}${reason ? `: ${reason}` : ''}`;
  };
  for (const artifact of modelOf(template).artifacts) {
    const resultId = results.get(artifact.logicalId);
    const result = resultId ? await resourceOf(clients, name, id, resultId, readWith) : undefined;
    if (result && isFailed(result.ResourceStatus)) {
      failed[artifact.logicalId] = `its last build failed (result lookup ${resultId} ${why(result)}). It is built again after the rollback; with --no-rollback only under a new retry word (${RETRY_WORDS}): without one, CloudFormation runs the failed result lookup again, which fails again at once.`;
      continue;
    }
    const wait = await resourceOf(clients, name, id, artifact.logicalId, readWith);
    if (wait && isFailed(wait.ResourceStatus)) {
      failed[artifact.logicalId] = `its wait ${artifact.logicalId} got no signal within its timeout (${why(wait)}). It is built again after the rollback; with --no-rollback only under a new retry word (${RETRY_WORDS}): without one, CloudFormation creates the same wait again, which nothing may signal (the jobs resource is not run again), so it can wait its whole timeout (up to 12 hours) and fail again.`;
    }
  }
  return Object.keys(failed).length > 0 ? failed : undefined;
}

/** The result lookup (`job-result`) of each wait of a template, by the wait's logical id. */
function resultLookupsOf(template: Template): Map<string, string> {
  const out = new Map<string, string>();
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    const r = resource as { Type?: string; Properties?: { Kind?: unknown; Spec?: { [name: string]: unknown } } };
    const key = r.Properties?.Spec?.[RESULT_KEY];
    if (r.Type === LOOKUP_RESOURCE_TYPE && r.Properties?.Kind === 'job-result' && typeof key === 'string') out.set(key, logicalId);
  }
  return out;
}

async function templateOf(clients: Clients, name: string, id: string, readWith: string): Promise<Template | undefined> {
  const got = await ask(name, 'cloudformation:GetTemplate', async () => {
    try {
      return await clients.cloudformation.send(new GetTemplateCommand({ StackName: id, TemplateStage: 'Original' }));
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }, readWith);
  if (!got?.TemplateBody) return undefined;
  try {
    return JSON.parse(got.TemplateBody) as Template;
  } catch {
    // A stack deployed from a YAML template (not by the CDK).
    return parseYaml(got.TemplateBody) as Template;
  }
}

/** The physical id of a resource of a deployed stack (a nested stack's is its stack ARN), or undefined when it has none. */
async function physicalIdOf(r: Read, name: string, logicalId: string): Promise<string | undefined> {
  const resource = await resourceOf(r.clients, name, r.id!, logicalId, r.access.readWith);
  return resource?.ResourceStatus === 'DELETE_COMPLETE' ? undefined : resource?.PhysicalResourceId || undefined;
}

/** A resource of a deployed stack, or undefined when the stack does not hold it (yet). */
async function resourceOf(clients: Clients, name: string, stackId: string, logicalId: string, readWith: string) {
  return ask(name, 'cloudformation:DescribeStackResource', async () => {
    try {
      const request = new DescribeStackResourceCommand({ StackName: stackId, LogicalResourceId: logicalId });
      return (await clients.cloudformation.send(request)).StackResourceDetail;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }, readWith);
}

/** A nested stack the deployed parent holds and AFTER's does not: it is deleted, and its own nested stacks with it. */
async function removedNested(parent: Read, parentName: string, parentTemplate: Template, logicalId: string): Promise<RemovedStack[]> {
  const id = await physicalIdOf(parent, parentName, logicalId);
  if (!id) return [];
  const template = await templateOf(parent.clients, parentName, id, parent.access.readWith);
  if (!template) return [];
  const cdkPath = parentTemplate.Resources?.[logicalId]?.Metadata?.['aws:cdk:path'];
  const name = (typeof cdkPath === 'string' ? /^(.+)\.NestedStack\/[^/]+\.NestedStackResource$/.exec(cdkPath)?.[1] : undefined) ?? `${parentName}/${logicalId}`;
  const self: RemovedStack = { name, nestedIn: parentName, account: parent.access.account, region: parent.access.region, template, deleted: true };
  const child: Read = { ...parent, id };
  const below: RemovedStack[] = [];
  for (const nested of nestedStackIds(template)) below.push(...await removedNested(child, name, template, nested));
  return [self, ...below];
}

async function amiExists(r: Read, stack: AssemblyStack, artifact: ArtifactMetadata): Promise<Existence> {
  const found = await ask(stack.name, 'ec2:DescribeImages and imagebuilder:GetImage', () =>
    findReusable(artifact.fingerprint, { ec2: r.clients.ec2, imagebuilder: r.clients.imagebuilder }), r.access.readWith);
  return found ? { exists: true, note: `reuses ${found.amiId}` } : { exists: false };
}

async function imageExists(r: Read, stack: AssemblyStack, artifact: ArtifactMetadata): Promise<Existence> {
  const repository = artifact.lookup?.repository;
  let name: string | undefined;
  if (typeof repository === 'string') {
    name = repository;
  } else if (typeof (repository as { Ref?: unknown } | undefined)?.Ref === 'string') {
    // A repository of this stack: its name is known once CloudFormation created it.
    const logicalId = (repository as { Ref: string }).Ref;
    if (r.deployed.change !== 'update' || !r.id) return { exists: false, note: `its repository (${logicalId}) is created with the stack, so the image is built.` };
    name = await physicalIdOf(r, stack.name, logicalId);
    if (!name) return { exists: false, note: `its repository (${logicalId}) is not deployed yet, so the image is built.` };
  } else {
    const tag = `${TAG_PREFIX}${artifact.fingerprint.slice(0, 16)}...`;
    return { exists: false, note: `its repository (${JSON.stringify(repository)}) is known only at deploy time, so whether ${tag} exists was not asked.` };
  }
  try {
    const digest = await ask(stack.name, 'ecr:DescribeImages', () =>
      findImageDigest(r.clients.ecr, { registryId: r.access.account, region: r.access.region, name: name! }, `${TAG_PREFIX}${artifact.fingerprint}`, artifact.path), r.access.readWith);
    return digest ? { exists: true, note: `reuses ${name}@${digest}` } : { exists: false };
  } catch (e) {
    // What would fail the deploy (a missing repository, an image index) is said, not hidden.
    if (e instanceof JobFailure) return { exists: false, note: e.message.replace(`${artifact.path}: `, '') };
    throw e;
  }
}
