/**
 * A lifecycle harness for the deploy-time runtime: it plays CloudFormation's side (the jobs
 * resource's requests and responses, wait conditions with a creation policy that take signals through
 * `SignalResource`, each artifact's result lookup, updates, rollbacks, retries and deletes) against
 * the runtime's handler, with an in-memory SSM, EventBridge and CloudFormation, a clock, and a fake
 * kind of job whose builds the test finishes or fails.
 *
 * What it encodes of CloudFormation (docs/aws-behaviour.md lists the sources):
 * - a custom resource is invoked only when its properties change (row 9); an update that returns
 *   another physical id is followed, once the update succeeds, by a Delete of the old id (row 6);
 * - CloudFormation creates a wait once the resources it depends on are done: the waits of a jobs
 *   resource are CREATE_IN_PROGRESS from the moment its SUCCESS answer lands (row 301);
 * - a wait with a creation policy takes `SignalResource` only while it is CREATE_IN_PROGRESS; a
 *   signal to one that is not, or to a stack not in progress, is a ValidationError (row 302); a
 *   re-created wait starts with no signal (row 303); it fails when its timeout passes without one;
 * - a rollback sends a resource that kept its physical id an Update with the old properties (row 7);
 *   for a custom resource the update replaced (a new physical id), CloudFormation's documentation does
 *   not say whether it sends the new id an Update with the old properties and then deletes it, or
 *   only deletes it, keeping the old id as it was: `rollbackReading` plays either (row 300);
 * - with rollback disabled, a retry re-runs only the resources that failed (row 10).
 */
import { CloudFormationClient, DescribeStackResourceCommand, DescribeStacksCommand, SignalResourceCommand } from '@aws-sdk/client-cloudformation';
import { DisableRuleCommand, EnableRuleCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DeleteParameterCommand, GetParameterCommand, GetParametersByPathCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { transport } from '../../../src/internal/runtime/http';
import type { Attempt, DeletedStack, Destroyed, Found, Held, Job, JobRunner, Keeper, Lookup, LookupRunner, Outcome, Retry, Started } from '../../../src/internal/runtime/job';
import { JobFailure } from '../../../src/internal/runtime/job';
import type { JobProperties, LookupKind } from '../../../src/internal/runtime/protocol';
import { handler, world } from '../../../src/internal/runtime/runtime.singleton-lambda';

export const STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/app/4a1c0e10-0000-0000-0000-000000000000';
const STATE_PATH = '/cdk-immutable-deploys/app';
const SERVICE_TOKEN = 'arn:aws:lambda:eu-west-1:123456789012:function:runtime';

const ssm = mockClient(SSMClient);
const eventbridge = mockClient(EventBridgeClient);
const cloudformation = mockClient(CloudFormationClient);

/** One artifact of the template: a job keyed by its fingerprint (and timeout, and retry word). */
export interface ArtifactSpec {
  readonly fingerprint: string;
  readonly timeoutMinutes?: number;
  /** The retry word of the synthesis (context `cdk-immutable-deploys:retry`): part of the wait's key. */
  readonly retry?: string;
  /** The construct's removal policy is DESTROY. */
  readonly destroy?: boolean;
  /** The artifact construct's id: the same construct across fingerprints. @default `Image-<fingerprint>` */
  readonly name?: string;
}

interface Signal {
  readonly Status: string;
  readonly UniqueId: string;
}

type WaitState = 'waiting' | 'complete' | 'failed';

interface Wait {
  readonly key: string;
  readonly createdAt: number;
  readonly timeoutMs: number;
  state: WaitState;
  readonly signals: Signal[];
}

/** The fake job kind: builds that the test finishes, fails or leaves running. Its artifacts are held like AMIs. */
export class FakeBuilds implements JobRunner {
  /** Artifacts that exist, by fingerprint: their id. */
  public readonly artifacts = new Map<string, string>();
  /** Builds by ref. */
  public readonly builds = new Map<string, { fingerprint: string; attempt: string; state: 'running' | 'succeeded' | 'failed' | 'cancelled' }>();
  public starts = 0;
  /** While set, starting a build is refused the way a full CodeBuild queue refuses it. */
  public quotaFull?: string;
  /** Calls to fail with throttling before they succeed. */
  public throttle = 0;
  /** The paths of the jobs whose artifacts `destroy` deleted. */
  public readonly destroyed: string[] = [];
  /** What `destroy` was told of the deleted stack. */
  public readonly destroyedFor: DeletedStack[] = [];

  public async find(job: Job): Promise<string | undefined> {
    if (this.throttle > 0) {
      this.throttle--;
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    }
    return this.artifacts.get(job.fingerprint);
  }

  public async readBack(job: Job): Promise<Found | undefined> {
    const data = await this.find(job);
    return data === undefined ? undefined : { data, summary: `${job.path}: read back ${data}`, held: [{ kind: 'ami', region: 'eu-west-1', id: data }] };
  }

  public async start(job: Job, attempt: Attempt): Promise<Started> {
    const existing = [...this.builds.entries()].find(([, b]) => b.attempt === attempt.id);
    if (existing) return { state: 'started', ref: existing[0] };
    if (this.quotaFull) return { state: 'throttled', reason: this.quotaFull };
    this.starts++;
    const ref = `build-${this.starts}`;
    this.builds.set(ref, { fingerprint: job.fingerprint, attempt: attempt.id, state: 'running' });
    return { state: 'started', ref };
  }

  public async check(_job: Job, ref: string): Promise<Outcome> {
    const build = this.builds.get(ref)!;
    if (build.state === 'running') return { state: 'pending', detail: `${ref} is running` };
    if (build.state === 'succeeded') return { state: 'succeeded', data: this.artifacts.get(build.fingerprint)!, summary: `built by ${ref}` };
    return { state: 'failed', reason: `${ref} failed: step 3 of the Dockerfile returned 1` };
  }

  public async cancel(_job: Job, ref: string): Promise<void> {
    const build = this.builds.get(ref)!;
    if (build.state === 'running') build.state = 'cancelled';
  }

  public async destroy(job: Job, retry: Retry, stack: DeletedStack): Promise<Destroyed> {
    // Every artifact this job's construct made: here, the one of its fingerprint, unless another stack holds it.
    const data = await retry(async () => this.find(job));
    this.destroyed.push(job.path);
    this.destroyedFor.push(stack);
    if (data && (await stack.holders({ kind: 'ami', region: 'eu-west-1', id: data })).length > 0) return { deleted: [], left: [`${data}: held`] };
    this.artifacts.delete(job.fingerprint);
    return { deleted: data ? [data] : [], left: [] };
  }

  /** Ends a running build of a fingerprint. */
  public finish(fingerprint: string, outcome: 'succeeded' | 'failed'): void {
    const build = [...this.builds.values()].find((b) => b.fingerprint === fingerprint && b.state === 'running');
    if (!build) throw new Error(`no running build of ${fingerprint}`);
    build.state = outcome;
    if (outcome === 'succeeded') this.artifacts.set(fingerprint, `sha256:${fingerprint}`);
  }
}

/** The fake lookups: artifacts other stacks made, by fingerprint, as this account and region see them. */
export class FakeLookups implements LookupRunner {
  public readonly visible = new Map<string, string>();
  public calls: string[] = [];
  /** Calls to fail with throttling before they succeed. */
  public throttle = 0;
  /** Whether what it finds is this account's, and so held. */
  public holds = false;

  public async lookup(lookup: Lookup): Promise<Found> {
    this.calls.push(lookup.fingerprint);
    if (this.throttle > 0) {
      this.throttle--;
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    }
    const data = this.visible.get(lookup.fingerprint);
    if (!data) throw new JobFailure(`${lookup.path}: no AMI of fingerprint ${lookup.fingerprint} in account ${lookup.account} and region ${lookup.region}.`);
    return { data, summary: `found ${data}`, held: this.holds ? [{ kind: 'ami', region: lookup.region, id: data }] : [] };
  }
}

/** The fake keeper: the artifacts marked as kept (an AMI's keep tag). */
export class FakeKeeper implements Keeper {
  public readonly kept = new Set<string>();
  public async keep(artifact: Held): Promise<void> {
    this.kept.add(artifact.id);
  }
  public async unkeep(artifact: Held): Promise<void> {
    this.kept.delete(artifact.id);
  }
}

/** A lookup resource as deployed. */
export interface DeployedLookup {
  readonly fingerprint: string;
  readonly physicalId: string;
  readonly id: string;
  /** Its properties' spec (a job-result names its wait). */
  readonly spec?: { [name: string]: string };
}

/** The jobs resource as deployed. */
interface Deployed {
  readonly jobs: JobProperties[];
  readonly physicalId: string;
}

/** How a deploy ended. `failed` also means: still waiting for a wait condition. */
export type DeployResult = 'complete' | 'rolled-back' | 'failed';

/** What a deploy changed, for its rollback. */
interface Flight {
  readonly before?: Deployed;
  readonly created: JobProperties[];
  readonly rollback: boolean;
  /** The result lookups before the deploy, by name. */
  readonly resultsBefore: Map<string, DeployedLookup>;
  /** The artifacts of the deploy, by name. */
  readonly artifacts: Map<string, JobProperties>;
}

/**
 * How CloudFormation rolls back a custom resource that the failed update replaced (a new physical id):
 * `update` sends it an Update with the old properties, then deletes the new id if the answer is another
 * one; `delete` only deletes the new id and keeps the old one as it was. The documentation does not say.
 */
export type RollbackReading = 'update' | 'delete';

export class StackHarness {
  public now = Date.parse('2026-12-01T10:00:00Z');
  public readonly builds = new FakeBuilds();
  public readonly lookups = new FakeLookups();
  public readonly keeper = new FakeKeeper();
  /** Everything the runtime logged. */
  public readonly logs: string[] = [];
  /** What the constructs put in each result lookup's spec besides the job's kind and wait (`addJob`'s `readBack`), for a real job kind. */
  public readBack: { readonly [name: string]: string } = {};
  /** Every response URL the runtime wrote to, with what it wrote. */
  public readonly puts: Array<{ url: string; body: any }> = [];
  public pollEnabled = false;
  /** The stack's status, as DescribeStacks reports it while the runtime is called. */
  public stackStatus = 'CREATE_IN_PROGRESS';
  /** For a nested stack: the root of its nesting, and its status. */
  public root?: { stackId: string; status: string };
  /** How many times the runtime asked for a stack's status. */
  public statusReads = 0;
  /** When CloudFormation last changed the runtime's policy (its LastUpdatedTimestamp). */
  public policyUpdatedAt = this.now - 24 * 3_600_000;
  /** The runtime role's overflow policies (aws-cdk-lib's `OverflowPolicyN`), by logical id: when each last changed. */
  public readonly overflowPolicies = new Map<string, number>();
  /** How CloudFormation rolls back a replaced custom resource. */
  public rollbackReading: RollbackReading = 'update';
  /** The result lookups as deployed, by artifact name. */
  public readonly results = new Map<string, DeployedLookup>();
  /** The jobs resource's properties and physical id as deployed; undefined before the first deploy. */
  private deployed?: Deployed;
  private readonly waits = new Map<string, Wait>();
  /** The waits CloudFormation creates once the jobs resource's answer lands. */
  private toCreate: JobProperties[] = [];
  private readonly parameters = new Map<string, string>();
  private requests = 0;
  /** Fails the next response PUT this many times, as when the function crashes before answering. */
  public crashBeforeAnswer = 0;
  private inFlight?: Flight;
  private stuck?: Flight & { failedResults: string[] };

  constructor() {
    ssm.reset();
    eventbridge.reset();
    cloudformation.reset();
    world.now = () => this.now;
    world.retryDelayMs = 0;
    world.sleep = async (ms: number) => { this.now += ms; };
    world.runners = { 'container-build': this.builds, 'ami-bake': this.builds };
    world.lookups = { 'ami-lookup': this.lookups, 'image-lookup': this.lookups, 'key-grant': this.lookups, 'ecr-replication': this.lookups, 'ecr-registry-policy': this.lookups };
    world.keepers = { ami: this.keeper };
    process.env.CID_STATE_PATH = STATE_PATH;
    process.env.CID_POLL_RULE = 'app-jobs-poll';
    process.env.CID_POLICY = 'RuntimePolicy';
    ssm.on(PutParameterCommand).callsFake(async (input) => {
      if (input.Overwrite === false && this.parameters.has(input.Name)) throw Object.assign(new Error('exists'), { name: 'ParameterAlreadyExists' });
      // SSM's value limits: 4 KB in the standard tier (the default), 8 KB in the advanced one (row 317).
      const limit = input.Tier === 'Advanced' ? 8192 : 4096;
      if (Buffer.byteLength(input.Value ?? '', 'utf8') > limit) {
        throw Object.assign(new Error(`Parameter value is longer than ${limit} bytes for the ${input.Tier ?? 'Standard'} tier`), { name: 'ValidationException' });
      }
      this.parameters.set(input.Name, input.Value);
      return {};
    });
    ssm.on(GetParameterCommand).callsFake(async (input) => {
      const value = this.parameters.get(input.Name);
      if (value === undefined) throw Object.assign(new Error('not found'), { name: 'ParameterNotFound' });
      return { Parameter: { Name: input.Name, Value: value } };
    });
    ssm.on(DeleteParameterCommand).callsFake(async (input) => {
      if (!this.parameters.delete(input.Name)) throw Object.assign(new Error('not found'), { name: 'ParameterNotFound' });
      return {};
    });
    ssm.on(GetParametersByPathCommand).callsFake(async (input) => ({
      Parameters: [...this.parameters.entries()]
        .filter(([name]) => name.startsWith(`${input.Path}/`) && (input.Recursive || !name.slice(input.Path.length + 1).includes('/')))
        .map(([Name, Value]) => ({ Name, Value })),
    }));
    eventbridge.on(EnableRuleCommand).callsFake(async () => { this.pollEnabled = true; return {}; });
    eventbridge.on(DisableRuleCommand).callsFake(async () => { this.pollEnabled = false; return {}; });
    cloudformation.on(DescribeStackResourceCommand).callsFake(async (input) => {
      if (input.LogicalResourceId === 'RuntimePolicy') {
        return { StackResourceDetail: { LogicalResourceId: 'RuntimePolicy', ResourceStatus: 'UPDATE_COMPLETE', LastUpdatedTimestamp: new Date(this.policyUpdatedAt) } };
      }
      const overflow = this.overflowPolicies.get(input.LogicalResourceId);
      if (overflow !== undefined) {
        return { StackResourceDetail: { LogicalResourceId: input.LogicalResourceId, ResourceStatus: 'UPDATE_COMPLETE', LastUpdatedTimestamp: new Date(overflow) } };
      }
      if (input.LogicalResourceId === 'Jobs' && this.deployed) {
        return { StackResourceDetail: { LogicalResourceId: 'Jobs', PhysicalResourceId: this.deployed.physicalId, ResourceStatus: 'UPDATE_COMPLETE' } };
      }
      const wait = this.waits.get(input.LogicalResourceId);
      if (!wait) throw Object.assign(new Error(`Resource ${input.LogicalResourceId} does not exist for stack app`), { name: 'ValidationError' });
      const status = { waiting: 'CREATE_IN_PROGRESS', complete: 'CREATE_COMPLETE', failed: 'CREATE_FAILED' }[wait.state];
      return { StackResourceDetail: { LogicalResourceId: wait.key, ResourceStatus: status } };
    });
    cloudformation.on(SignalResourceCommand).callsFake(async (input) => this.signal(input.LogicalResourceId, input.UniqueId, input.Status));
    cloudformation.on(DescribeStacksCommand).callsFake(async (input) => {
      this.statusReads++;
      if (this.root && input.StackName === this.root.stackId) return { Stacks: [{ StackName: 'root', StackId: this.root.stackId, StackStatus: this.root.status, CreationTime: new Date(0) }] };
      return { Stacks: [{ StackName: 'app', StackId: STACK_ID, StackStatus: this.stackStatus, CreationTime: new Date(0), ...(this.root ? { RootId: this.root.stackId, ParentId: this.root.stackId } : {}) }] };
    });
    transport.put = async (url: string, body: string) => this.put(url, body);
    transport.retryDelaysMs = [];
    jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => { this.logs.push(args.join(' ')); });
  }

  /** The pending jobs the runtime keeps. */
  public get pending(): number {
    return [...this.parameters.keys()].filter((name) => name.startsWith(`${STATE_PATH}/`) && !name.slice(STATE_PATH.length + 1).includes('/')).length;
  }

  /** Every parameter the runtime keeps (its state, and the account's register of holds). */
  public get state(): Map<string, string> {
    return this.parameters;
  }

  /** A wait condition of the stack, by fingerprint. */
  public wait(fingerprint: string, timeoutMinutes = 60, retry?: string): Wait | undefined {
    return this.waits.get(keyOf({ fingerprint, timeoutMinutes, retry }));
  }

  /** The signals a fingerprint's wait took. */
  public signals(fingerprint: string, timeoutMinutes = 60): Signal[] {
    return this.wait(fingerprint, timeoutMinutes)?.signals ?? [];
  }

  /** What the deployed result lookup of an artifact answered. */
  public result(fingerprintOrName: string): DeployedLookup | undefined {
    return this.results.get(fingerprintOrName) ?? this.results.get(`Image-${fingerprintOrName}`);
  }

  /**
   * `SignalResource` by anyone with the permission (the runtime, or someone else: a forged signal).
   * It carries a status and a unique id, nothing else.
   */
  public async signal(key: string, uniqueId: string, status = 'SUCCESS'): Promise<object> {
    const wait = this.waits.get(key);
    if (!this.stackStatus.endsWith('_IN_PROGRESS') || this.stackStatus.includes('CLEANUP')) {
      throw Object.assign(new Error(`Stack ${STACK_ID} is in ${this.stackStatus.replace('_IN_PROGRESS', '_COMPLETE')} state and cannot be signaled`), { name: 'ValidationError' });
    }
    if (!wait) throw Object.assign(new Error(`Resource ${key} does not exist for stack app`), { name: 'ValidationError' });
    if (wait.state !== 'waiting') {
      throw Object.assign(new Error(`Resource ${key} is in ${wait.state === 'complete' ? 'CREATE_COMPLETE' : 'CREATE_FAILED'} state and cannot be signaled`), { name: 'ValidationError' });
    }
    if (!wait.signals.some((s) => s.UniqueId === uniqueId)) wait.signals.push({ Status: status, UniqueId: uniqueId });
    return {};
  }

  /**
   * Deploys a template with these artifacts, as CloudFormation would: the jobs resource (only if its
   * properties changed), then the new waits, which complete or fail from their signals, then each
   * artifact's result lookup (only if its properties changed). Waits that no signal completes stay
   * waiting until `settle()`.
   */
  public async deploy(artifacts: ArtifactSpec[], options: { rollback?: boolean } = {}): Promise<DeployResult> {
    const jobs = artifacts.map((a) => this.jobOf(a));
    const before = this.deployed;
    const created = jobs.filter((j) => !this.waits.has(j.Key));
    this.stackStatus = before ? 'UPDATE_IN_PROGRESS' : 'CREATE_IN_PROGRESS';
    const flight: Flight = {
      before,
      created,
      rollback: options.rollback ?? true,
      resultsBefore: new Map(this.results),
      artifacts: new Map(artifacts.map((a, i) => [a.name ?? `Image-${a.fingerprint}`, jobs[i]])),
    };
    if (!before || JSON.stringify(before.jobs) !== JSON.stringify(jobs)) {
      this.toCreate = created;
      const answer = await this.request(before ? 'Update' : 'Create', jobs, before);
      this.toCreate = [];
      if (answer.Status !== 'SUCCESS') return this.failUpdate(flight, []);
      if (before && answer.PhysicalResourceId !== before.physicalId) throw new Error('the jobs resource changed its physical id');
      this.deployed = { jobs, physicalId: answer.PhysicalResourceId };
    }
    this.createWaits(created);
    this.inFlight = flight;
    return this.settle();
  }

  /** Lets CloudFormation evaluate the waits of the deploy in flight, then run the result lookups: complete, roll back, or keep waiting. */
  public async settle(): Promise<DeployResult> {
    const flight = this.inFlight;
    if (!flight) return 'complete';
    for (const job of flight.created) evaluate(this.waits.get(job.Key)!, this.now);
    const states = flight.created.map((j) => this.waits.get(j.Key)!.state);
    if (states.includes('failed')) {
      this.inFlight = undefined;
      return this.failUpdate(flight, []);
    }
    // A result lookup runs as soon as its own wait completed: it depends on that wait only.
    const ready = [...flight.artifacts.entries()].filter(([, job]) => this.waits.get(job.Key)?.state === 'complete').map(([name]) => name);
    const failed = await this.runResults(flight, ready);
    if (failed.length > 0) {
      this.inFlight = undefined;
      return this.failUpdate(flight, failed);
    }
    if (states.includes('waiting')) return 'failed';
    this.inFlight = undefined;
    return this.cleanUp(flight);
  }

  /** Whether a deploy is still waiting for a wait condition. */
  public get waiting(): boolean {
    return this.inFlight !== undefined;
  }

  /** A state-change event of a job, or a schedule tick: the runtime checks every pending job. */
  public async event(): Promise<void> {
    await handler({ 'source': 'aws.codebuild', 'detail-type': 'CodeBuild Build State Change', 'detail': {} }, remaining(300_000));
  }

  /** Time passes: the schedule ticks each minute while it is enabled. */
  public async advance(minutes: number): Promise<void> {
    for (let i = 0; i < minutes; i++) {
      this.now += 60_000;
      if (this.pollEnabled) await handler({ 'source': 'aws.events', 'detail-type': 'Scheduled Event' }, remaining(300_000));
    }
  }

  /** `cdk rollback` of a stack left in UPDATE_FAILED with rollback disabled. */
  public async rollBack(): Promise<void> {
    const stuck = this.stuck;
    if (!stuck) throw new Error('nothing to roll back');
    this.stuck = undefined;
    await this.rollBackTo(stuck);
  }

  /** Retries a deploy left in UPDATE_FAILED (rollback disabled): only the failed waits and result lookups run again. */
  public async retry(): Promise<DeployResult> {
    const stuck = this.stuck;
    if (!stuck) throw new Error('nothing to retry');
    this.stuck = undefined;
    this.stackStatus = 'UPDATE_IN_PROGRESS';
    for (const job of stuck.created) {
      const wait = this.waits.get(job.Key)!;
      // A retried wait is created again, and takes new signals.
      if (wait.state === 'failed') this.waits.set(job.Key, newWait(job, this.now));
    }
    if (stuck.created.some((j) => this.waits.get(j.Key)!.state === 'waiting')) {
      this.inFlight = { ...stuck, rollback: false };
      return this.settle();
    }
    const failed = await this.runResults(stuck, stuck.failedResults);
    if (failed.length > 0) return this.failUpdate({ ...stuck, rollback: false }, failed);
    return this.cleanUp(stuck);
  }

  /** Deletes the stack: the result lookups, the waits, then the jobs resource (the reverse of their dependencies). */
  public async destroy(): Promise<void> {
    this.stackStatus = 'DELETE_IN_PROGRESS';
    for (const [name, result] of [...this.results.entries()]) {
      await this.resultRequest('Delete', name, undefined, result);
      this.results.delete(name);
    }
    for (const key of [...this.waits.keys()]) this.waits.delete(key);
    if (this.deployed) await this.request('Delete', this.deployed.jobs, this.deployed);
    this.deployed = undefined;
  }

  /**
   * An update that removes every artifact construct from the template: once it succeeds, CloudFormation
   * deletes their result lookups, waits and the jobs resource in its cleanup.
   */
  public async leaveTemplate(): Promise<void> {
    const deployed = this.deployed;
    if (!deployed) throw new Error('nothing deployed');
    this.stackStatus = 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS';
    for (const [name, result] of [...this.results.entries()]) {
      await this.resultRequest('Delete', name, undefined, result);
      this.results.delete(name);
    }
    for (const key of [...this.waits.keys()]) this.waits.delete(key);
    this.deployed = undefined;
    await this.request('Delete', deployed.jobs, deployed);
  }

  /** Sends the jobs resource a request; returns CloudFormation's record of the answer. */
  public async request(type: 'Create' | 'Update' | 'Delete', jobs: JobProperties[], before?: Deployed): Promise<any> {
    const responseUrl = `https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/response-${++this.requests}?X-Amz-Signature=SECRET`;
    const event = {
      RequestType: type,
      ServiceToken: SERVICE_TOKEN,
      ResponseURL: responseUrl,
      StackId: STACK_ID,
      RequestId: `request-${this.requests}`,
      LogicalResourceId: 'Jobs',
      ResourceType: 'Custom::CdkImmutableDeploysJobs',
      ...(type === 'Create' ? {} : { PhysicalResourceId: before!.physicalId }),
      ResourceProperties: { ServiceToken: SERVICE_TOKEN, Jobs: jobs },
      ...(type === 'Update' ? { OldResourceProperties: { ServiceToken: SERVICE_TOKEN, Jobs: before!.jobs } } : {}),
    };
    // Lambda retries an asynchronous invocation whose function crashed (twice at most).
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await handler(event, remaining(600_000));
        break;
      } catch (e) {
        this.logs.push(`crash: ${String(e)}`);
      }
    }
    const answers = this.puts.filter((p) => p.url === responseUrl);
    if (answers.length !== 1) throw new Error(`expected one answer to the ${type} request, got ${answers.length}`);
    return answers[0].body;
  }

  /**
   * Sends a lookup resource a request, as CloudFormation does: Create, an Update only when its
   * properties (the fingerprint) changed, a rollback's Update with the old properties, and a Delete of
   * a replaced physical id. Returns CloudFormation's record of the answer.
   */
  public async lookupRequest(
    type: 'Create' | 'Update' | 'Delete', fingerprint: string, before?: DeployedLookup, kind: LookupKind = 'ami-lookup',
    specOf: (fingerprint: string) => { [name: string]: string } = () => ({ Owner: '111111111111', SourceRegion: '' }),
    logicalId = 'FleetImportedArtifactLookup', path = 'app/Fleet/ImportedArtifact',
  ): Promise<any> {
    const responseUrl = `https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/response-${++this.requests}?X-Amz-Signature=SECRET`;
    const props = (fp: string, spec: { [name: string]: string }) => ({
      ServiceToken: SERVICE_TOKEN, Kind: kind, Path: path, Fingerprint: fp, Spec: spec,
    });
    const event = {
      RequestType: type,
      ServiceToken: SERVICE_TOKEN,
      ResponseURL: responseUrl,
      StackId: STACK_ID,
      RequestId: `request-${this.requests}`,
      LogicalResourceId: logicalId,
      ResourceType: 'Custom::CdkImmutableDeploysLookup',
      ...(type === 'Create' ? {} : { PhysicalResourceId: before!.physicalId }),
      ResourceProperties: props(fingerprint, specOf(fingerprint)),
      ...(type === 'Update' ? { OldResourceProperties: props(before!.fingerprint, before!.spec ?? specOf(before!.fingerprint)) } : {}),
    };
    await handler(event, remaining(600_000));
    const answers = this.puts.filter((p) => p.url === responseUrl);
    if (answers.length !== 1) throw new Error(`expected one answer to the ${type} request, got ${answers.length}`);
    return answers[0].body;
  }

  /** A request to the result lookup of an artifact (`job-result`). */
  private async resultRequest(type: 'Create' | 'Update' | 'Delete', name: string, job: JobProperties | undefined, before?: DeployedLookup): Promise<any> {
    const specOf = () => (job ? { ...this.readBack, JobKind: job.Kind, Key: job.Key } : before!.spec!);
    return this.lookupRequest(type, job?.Fingerprint ?? before!.fingerprint, before, 'job-result', specOf, `${name.replace(/[^A-Za-z0-9]/g, '')}Result`, `app/${name}`);
  }

  /** Runs the result lookups of `names` whose properties changed; returns the names of those that failed. */
  private async runResults(flight: Flight, names: string[]): Promise<string[]> {
    const failed: string[] = [];
    for (const name of names) {
      const job = flight.artifacts.get(name)!;
      const current = this.results.get(name);
      if (current && current.fingerprint === job.Fingerprint && current.spec?.Key === job.Key) continue;
      const answer = await this.resultRequest(current ? 'Update' : 'Create', name, job, current);
      if (answer.Status !== 'SUCCESS') {
        failed.push(name);
        continue;
      }
      const spec = { ...this.readBack, JobKind: job.Kind, Key: job.Key };
      this.results.set(name, { fingerprint: job.Fingerprint, physicalId: answer.PhysicalResourceId, id: answer.Data?.Id, spec });
    }
    return failed;
  }

  /** UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: what left the template, and the replaced versions of result lookups, are deleted. */
  private async cleanUp(flight: Flight): Promise<DeployResult> {
    this.stackStatus = 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS';
    const keys = new Set((this.deployed?.jobs ?? []).map((j) => j.Key));
    for (const key of [...this.waits.keys()]) if (!keys.has(key)) this.waits.delete(key);
    for (const [name, old] of flight.resultsBefore) {
      const now = this.results.get(name);
      if (now && now.physicalId === old.physicalId) continue;
      await this.resultRequest('Delete', name, undefined, old);
      if (!flight.artifacts.has(name)) this.results.delete(name);
    }
    this.stackStatus = 'UPDATE_COMPLETE';
    return 'complete';
  }

  private async failUpdate(flight: Flight, failedResults: string[]): Promise<DeployResult> {
    if (!flight.rollback) {
      this.stuck = { ...flight, failedResults };
      this.stackStatus = flight.before ? 'UPDATE_FAILED' : 'CREATE_FAILED';
      return 'failed';
    }
    await this.rollBackTo(flight);
    return 'rolled-back';
  }

  /**
   * Rolls the failed update back: the jobs resource gets an Update with the old properties (it never
   * changes its physical id); each result lookup the update replaced is rolled back by the reading in
   * force; what the update created is deleted in the cleanup.
   */
  private async rollBackTo(flight: Flight): Promise<void> {
    const before = flight.before;
    const failed = this.deployed;
    this.stackStatus = before ? 'UPDATE_ROLLBACK_IN_PROGRESS' : 'ROLLBACK_IN_PROGRESS';
    // Waits of the failed update that were still waiting are cancelled.
    for (const job of flight.created) {
      const wait = this.waits.get(job.Key);
      if (wait?.state === 'waiting') wait.state = 'failed';
    }
    const replaced: Array<[string, DeployedLookup]> = [];
    if (before && failed && failed !== before) {
      const answer = await this.request('Update', before.jobs, failed);
      if (answer.PhysicalResourceId !== before.physicalId) throw new Error('the jobs resource changed its physical id on rollback');
      this.deployed = before;
      for (const [name, old] of flight.resultsBefore) {
        const now = this.results.get(name);
        if (!now || now.physicalId === old.physicalId) continue;
        if (this.rollbackReading === 'update') {
          const back = await this.resultRequest('Update', name, { ...flight.before!.jobs.find((j) => j.Key === old.spec?.Key)!, Fingerprint: old.fingerprint }, now);
          if (back.Status !== 'SUCCESS') throw new Error(`UPDATE_ROLLBACK_FAILED: ${name}: ${back.Reason}`);
          this.results.set(name, { ...old, physicalId: back.PhysicalResourceId, id: back.Data?.Id });
          if (back.PhysicalResourceId !== now.physicalId) replaced.push([name, now]);
        } else {
          this.results.set(name, old);
          replaced.push([name, now]);
        }
      }
    }
    this.stackStatus = before ? 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS' : 'ROLLBACK_IN_PROGRESS';
    for (const [name, version] of replaced) await this.resultRequest('Delete', name, undefined, version);
    // Result lookups the failed update created (a new artifact construct).
    for (const [name, result] of [...this.results.entries()]) {
      if (flight.resultsBefore.has(name)) continue;
      await this.resultRequest('Delete', name, undefined, result);
      this.results.delete(name);
    }
    if (!before && failed) {
      await this.request('Delete', failed.jobs, failed);
      this.deployed = undefined;
    }
    for (const job of flight.created) this.waits.delete(job.Key);
    this.stackStatus = before ? 'UPDATE_ROLLBACK_COMPLETE' : 'ROLLBACK_COMPLETE';
  }

  private createWaits(jobs: JobProperties[]): void {
    for (const job of jobs) if (!this.waits.has(job.Key)) this.waits.set(job.Key, newWait(job, this.now));
  }

  private jobOf(a: ArtifactSpec): JobProperties {
    return {
      Key: keyOf(a),
      Kind: 'container-build',
      Path: `app/${a.name ?? `Image-${a.fingerprint}`}`,
      Fingerprint: a.fingerprint,
      TimeoutSeconds: String((a.timeoutMinutes ?? 60) * 60),
      Spec: { Image: a.fingerprint, ...(a.destroy ? { RemovalPolicy: 'destroy' } : {}) },
    };
  }

  private async put(url: string, body: string): Promise<void> {
    if (this.crashBeforeAnswer > 0) {
      this.crashBeforeAnswer--;
      throw new Error('the function crashed before it answered');
    }
    const parsed = JSON.parse(body);
    this.puts.push({ url, body: parsed });
    // CloudFormation goes on as soon as the jobs resource answered: it creates the waits that depend on it.
    if (parsed.LogicalResourceId === 'Jobs' && parsed.Status === 'SUCCESS' && this.toCreate.length > 0) {
      this.createWaits(this.toCreate);
      this.toCreate = [];
    }
  }
}

function keyOf(a: { fingerprint: string; timeoutMinutes?: number; retry?: string }): string {
  return `Wait${a.fingerprint}${a.timeoutMinutes ?? 60}${a.retry ?? ''}`;
}

function newWait(job: JobProperties, now: number): Wait {
  return { key: job.Key, createdAt: now, timeoutMs: Number(job.TimeoutSeconds) * 1_000, state: 'waiting', signals: [] };
}

/** A wait with a creation policy: one FAILURE signal fails it, one SUCCESS (Count 1) completes it, its timeout fails it. */
function evaluate(wait: Wait, now: number): void {
  if (wait.state !== 'waiting') return;
  if (wait.signals.some((s) => s.Status === 'FAILURE')) wait.state = 'failed';
  else if (wait.signals.some((s) => s.Status === 'SUCCESS')) wait.state = 'complete';
  else if (now - wait.createdAt > wait.timeoutMs) wait.state = 'failed';
}

export function remaining(ms: number) {
  return { getRemainingTimeInMillis: () => ms };
}
