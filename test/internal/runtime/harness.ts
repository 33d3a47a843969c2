/**
 * A lifecycle harness for the deploy-time runtime: it plays CloudFormation's side (the jobs
 * resource's requests and responses, wait-condition handles that expire after 24 hours, wait
 * conditions that evaluate every signal their handle holds, updates, rollbacks, retries and deletes)
 * against the runtime's handler, with an in-memory SSM, EventBridge and CloudFormation, a clock, and
 * a fake kind of job whose builds the test finishes or fails.
 *
 * What it encodes of CloudFormation (docs/aws-behaviour.md lists the sources):
 * - a custom resource is invoked only when its properties change; an update that returns another
 *   physical id is followed, once the update succeeds, by a Delete of the old id;
 * - a rollback sends an Update with the old properties, then deletes the resources the failed update created;
 * - a handle's presigned URL is valid for about 24 hours; a wait condition counts the signals its
 *   handle holds, also those sent before it was created and those of an earlier attempt (a reused handle);
 * - with rollback disabled, a retry re-runs only the resources that failed.
 */
import { CloudFormationClient, DescribeStackResourceCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DisableRuleCommand, EnableRuleCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DeleteParameterCommand, GetParametersByPathCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { transport } from '../../../src/internal/runtime/http';
import type { Attempt, Destroyed, Found, Job, JobRunner, Lookup, LookupRunner, Outcome, Retry, Started } from '../../../src/internal/runtime/job';
import { JobFailure } from '../../../src/internal/runtime/job';
import type { JobProperties, LookupKind } from '../../../src/internal/runtime/protocol';
import { handler, world } from '../../../src/internal/runtime/runtime.singleton-lambda';

export const STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/app/4a1c0e10-0000-0000-0000-000000000000';
const STATE_PATH = '/cdk-immutable-deploys/app';
const HOUR = 3_600_000;
/** How long a handle's presigned URL is valid (X-Amz-Expires=86399). */
const HANDLE_LIFETIME = 24 * HOUR - 1_000;

const ssm = mockClient(SSMClient);
const eventbridge = mockClient(EventBridgeClient);
const cloudformation = mockClient(CloudFormationClient);

/** One artifact of the template: a job keyed by its fingerprint (and timeout). */
export interface ArtifactSpec {
  readonly fingerprint: string;
  readonly timeoutMinutes?: number;
  /** The retry word of the synthesis (context `cdk-immutable-deploys:retry`): part of the wait's key. */
  readonly retry?: string;
  /** The construct's removal policy is DESTROY. */
  readonly destroy?: boolean;
}

interface Signal {
  readonly Status: string;
  readonly UniqueId: string;
  readonly Data: string;
  readonly Reason: string;
}

interface Handle {
  readonly url: string;
  readonly createdAt: number;
  deleted: boolean;
  readonly signals: Signal[];
}

type WaitState = 'waiting' | 'complete' | 'failed';

interface Wait {
  readonly key: string;
  readonly handle: Handle;
  state: WaitState;
  data?: string;
  reason?: string;
}

/** The fake job kind: builds that the test finishes, fails or leaves running. */
export class FakeBuilds implements JobRunner {
  /** Artifacts that exist, by fingerprint: their data. */
  public readonly artifacts = new Map<string, string>();
  /** Builds by ref. */
  public readonly builds = new Map<string, { fingerprint: string; attempt: string; state: 'running' | 'succeeded' | 'failed' | 'cancelled' }>();
  /** Holds: tag to the data of the artifacts it marks. */
  public readonly holds = new Map<string, Set<string>>();
  public starts = 0;
  /** While set, starting a build is refused the way a full CodeBuild queue refuses it. */
  public quotaFull?: string;

  /** Calls to fail with throttling before they succeed. */
  public throttle = 0;
  /** The paths of the jobs whose artifacts `destroy` deleted. */
  public readonly destroyed: string[] = [];
  /** The hold tags `destroy` was told are the deleted stack's own. */
  public readonly destroyedFor: string[] = [];

  public async find(job: Job): Promise<string | undefined> {
    if (this.throttle > 0) {
      this.throttle--;
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    }
    return this.artifacts.get(job.fingerprint);
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

  public async hold(_job: Job, data: string, tag: string): Promise<void> {
    this.holds.set(tag, new Set([...(this.holds.get(tag) ?? []), data]));
  }

  public async release(tag: string): Promise<void> {
    this.holds.delete(tag);
  }

  public async destroy(job: Job, retry: Retry, holdTag: string): Promise<Destroyed> {
    // Every artifact this job's construct made: here, the one of its fingerprint.
    const data = await retry(async () => this.find(job));
    this.destroyed.push(job.path);
    this.destroyedFor.push(holdTag);
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

  /** The artifacts every remaining hold marks. */
  public held(): string[] {
    return [...new Set([...this.holds.values()].flatMap((s) => [...s]))].sort();
  }
}

/** The fake lookups: artifacts other stacks made, by fingerprint, as this account and region see them. */
export class FakeLookups implements LookupRunner {
  public readonly visible = new Map<string, string>();
  public calls: string[] = [];
  /** Calls to fail with throttling before they succeed. */
  public throttle = 0;

  public async lookup(lookup: Lookup): Promise<Found> {
    this.calls.push(lookup.fingerprint);
    if (this.throttle > 0) {
      this.throttle--;
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    }
    const data = this.visible.get(lookup.fingerprint);
    if (!data) throw new JobFailure(`${lookup.path}: no AMI of fingerprint ${lookup.fingerprint} in account ${lookup.account} and region ${lookup.region}.`);
    return { data, summary: `found ${data}` };
  }
}

/** A lookup resource as deployed. */
export interface DeployedLookup {
  readonly fingerprint: string;
  readonly physicalId: string;
  readonly id: string;
}

/** The jobs resource as deployed. */
interface Deployed {
  readonly jobs: JobProperties[];
  readonly physicalId: string;
}

/** How a deploy ended. */
export type DeployResult = 'complete' | 'rolled-back' | 'failed';

export class StackHarness {
  public now = Date.parse('2026-12-01T10:00:00Z');
  public readonly builds = new FakeBuilds();
  public readonly lookups = new FakeLookups();
  /** Everything the runtime logged. */
  public readonly logs: string[] = [];
  /** Every URL the runtime wrote to, with what it wrote. */
  public readonly puts: Array<{ url: string; body: any }> = [];
  public pollEnabled = false;
  /** The stack's status, as DescribeStacks reports it while the runtime is called. */
  public stackStatus = 'CREATE_IN_PROGRESS';
  /** How many times the runtime asked for the stack's status. */
  public statusReads = 0;
  /** The jobs resource's properties and physical id as deployed; undefined before the first deploy. */
  private deployed?: Deployed;
  private readonly handles = new Map<string, Handle>();
  private readonly waits = new Map<string, Wait>();
  private readonly parameters = new Map<string, string>();
  private requests = 0;
  /** Fails the next response PUT this many times, as when the function crashes before answering. */
  public crashBeforeAnswer = 0;
  private inFlight?: { before?: Deployed; created: JobProperties[]; rollback: boolean };
  private pendingCleanup?: Deployed;
  private stuck?: { before?: Deployed; created: JobProperties[] };

  constructor() {
    ssm.reset();
    eventbridge.reset();
    cloudformation.reset();
    world.now = () => this.now;
    world.retryDelayMs = 0;
    world.runners = { 'container-build': this.builds, 'ami-bake': this.builds };
    world.lookups = { 'ami-lookup': this.lookups, 'image-lookup': this.lookups, 'key-grant': this.lookups, 'ecr-replication': this.lookups, 'ecr-registry-policy': this.lookups };
    process.env.CID_STATE_PATH = STATE_PATH;
    process.env.CID_POLL_RULE = 'app-jobs-poll';
    ssm.on(PutParameterCommand).callsFake(async (input) => {
      this.parameters.set(input.Name, input.Value);
      return {};
    });
    ssm.on(DeleteParameterCommand).callsFake(async (input) => {
      if (!this.parameters.delete(input.Name)) throw Object.assign(new Error('not found'), { name: 'ParameterNotFound' });
      return {};
    });
    ssm.on(GetParametersByPathCommand).callsFake(async (input) => ({
      Parameters: [...this.parameters.entries()].filter(([name]) => name.startsWith(`${input.Path}/`)).map(([Name, Value]) => ({ Name, Value })),
    }));
    eventbridge.on(EnableRuleCommand).callsFake(async () => { this.pollEnabled = true; return {}; });
    eventbridge.on(DisableRuleCommand).callsFake(async () => { this.pollEnabled = false; return {}; });
    cloudformation.on(DescribeStackResourceCommand).callsFake(async (input) => {
      const wait = this.waits.get(input.LogicalResourceId);
      if (input.LogicalResourceId === 'Jobs' && this.deployed) {
        return { StackResourceDetail: { LogicalResourceId: 'Jobs', PhysicalResourceId: this.deployed.physicalId, ResourceStatus: 'UPDATE_COMPLETE' } };
      }
      if (!wait) throw Object.assign(new Error(`Resource ${input.LogicalResourceId} does not exist for stack app`), { name: 'ValidationError' });
      return { StackResourceDetail: { LogicalResourceId: wait.key, ResourceStatus: wait.state === 'failed' ? 'CREATE_FAILED' : 'CREATE_COMPLETE' } };
    });
    cloudformation.on(DescribeStacksCommand).callsFake(async () => ++this.statusReads && ({ Stacks: [{ StackName: 'app', StackId: STACK_ID, StackStatus: this.stackStatus, CreationTime: new Date(0) }] }));
    transport.put = async (url: string, body: string) => this.put(url, body);
    transport.retryDelaysMs = [];
    jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => { this.logs.push(args.join(' ')); });
  }

  /** The pending jobs the runtime keeps. */
  public get pending(): number {
    return this.parameters.size;
  }

  /** A wait condition of the stack, by fingerprint. */
  public wait(fingerprint: string, timeoutMinutes = 60): Wait | undefined {
    return this.waits.get(keyOf({ fingerprint, timeoutMinutes }));
  }

  /** The signals sent to the handle of a fingerprint's wait. */
  public signals(fingerprint: string, timeoutMinutes = 60): Signal[] {
    return this.wait(fingerprint, timeoutMinutes)?.handle.signals ?? [];
  }

  /**
   * Deploys a template with these artifacts, as CloudFormation would: new handles, then the jobs
   * resource (only if its properties changed), then the new waits, which complete or fail from the
   * signals on their handles. Waits that no signal completes stay waiting until `settle()`.
   */
  public async deploy(artifacts: ArtifactSpec[], options: { rollback?: boolean } = {}): Promise<DeployResult> {
    const jobs = artifacts.map((a) => this.jobOf(a));
    const before = this.deployed;
    const created = jobs.filter((j) => !this.waits.has(j.Key));
    for (const job of created) this.handles.set(job.Key, this.handles.get(job.Key) ?? newHandle(job.Key, this.now));
    const withHandles = jobs.map((j) => ({ ...j, Handle: this.handles.get(j.Key)!.url }));

    this.stackStatus = before ? 'UPDATE_IN_PROGRESS' : 'CREATE_IN_PROGRESS';
    if (!before || JSON.stringify(before.jobs) !== JSON.stringify(withHandles)) {
      const answer = await this.request(before ? 'Update' : 'Create', withHandles, before);
      if (answer.Status !== 'SUCCESS') return this.failUpdate(before, created, options.rollback ?? true);
      this.deployed = { jobs: withHandles, physicalId: answer.PhysicalResourceId };
      this.pendingCleanup = before && before.physicalId !== answer.PhysicalResourceId ? before : undefined;
    }
    for (const job of created) {
      this.waits.set(job.Key, { key: job.Key, handle: this.handles.get(job.Key)!, state: 'waiting' });
    }
    this.inFlight = { before, created, rollback: options.rollback ?? true };
    return this.settle();
  }

  /** Lets CloudFormation evaluate the waits of the deploy in flight: complete, roll back, or keep waiting. */
  public async settle(): Promise<DeployResult> {
    const flight = this.inFlight;
    if (!flight) return 'complete';
    for (const job of flight.created) evaluate(this.waits.get(job.Key)!, this.now);
    const states = flight.created.map((j) => this.waits.get(j.Key)!.state);
    if (states.includes('failed')) {
      this.inFlight = undefined;
      return this.failUpdate(flight.before, flight.created, flight.rollback);
    }
    if (states.includes('waiting')) return 'failed';
    this.inFlight = undefined;
    // UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: the waits and handles that left the template, the jobs resource's old version.
    this.stackStatus = 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS';
    this.dropLeftovers();
    if (this.pendingCleanup) await this.request('Delete', this.pendingCleanup.jobs, this.pendingCleanup);
    this.pendingCleanup = undefined;
    return 'complete';
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
    await this.rollBackTo(stuck.before, stuck.created);
  }

  /** Deletes the stack. */
  public async destroy(): Promise<void> {
    this.stackStatus = 'DELETE_IN_PROGRESS';
    if (this.deployed) await this.request('Delete', this.deployed.jobs, this.deployed);
    this.deployed = undefined;
    for (const key of [...this.waits.keys()]) this.dropWait(key);
  }

  /**
   * An update that removes the jobs resource from the template (every artifact construct left the
   * app): once it succeeds, CloudFormation deletes the resource's current version in its cleanup.
   */
  public async leaveTemplate(): Promise<void> {
    const deployed = this.deployed;
    if (!deployed) throw new Error('nothing deployed');
    this.stackStatus = 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS';
    this.deployed = undefined;
    await this.request('Delete', deployed.jobs, deployed);
    for (const key of [...this.waits.keys()]) this.dropWait(key);
  }

  /** Sends the jobs resource a request; returns CloudFormation's record of the answer. */
  public async request(type: 'Create' | 'Update' | 'Delete', jobs: JobProperties[], before?: Deployed): Promise<any> {
    const responseUrl = `https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/response-${++this.requests}?X-Amz-Signature=SECRET`;
    const event = {
      RequestType: type,
      ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:runtime',
      ResponseURL: responseUrl,
      StackId: STACK_ID,
      RequestId: `request-${this.requests}`,
      LogicalResourceId: 'Jobs',
      ResourceType: 'Custom::CdkImmutableDeploysJobs',
      ...(type === 'Create' ? {} : { PhysicalResourceId: before!.physicalId }),
      ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:runtime', Jobs: jobs },
      ...(type === 'Update' ? { OldResourceProperties: { ServiceToken: 'x', Jobs: before!.jobs } } : {}),
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
  ): Promise<any> {
    const responseUrl = `https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/response-${++this.requests}?X-Amz-Signature=SECRET`;
    const props = (fp: string) => ({ ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:runtime', Kind: kind, Path: 'app/Fleet/ImportedArtifact', Fingerprint: fp, Spec: specOf(fp) });
    const event = {
      RequestType: type,
      ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:runtime',
      ResponseURL: responseUrl,
      StackId: STACK_ID,
      RequestId: `request-${this.requests}`,
      LogicalResourceId: 'FleetImportedArtifactLookup',
      ResourceType: 'Custom::CdkImmutableDeploysLookup',
      ...(type === 'Create' ? {} : { PhysicalResourceId: before!.physicalId }),
      ResourceProperties: props(fingerprint),
      ...(type === 'Update' ? { OldResourceProperties: props(before!.fingerprint) } : {}),
    };
    await handler(event, remaining(600_000));
    const answers = this.puts.filter((p) => p.url === responseUrl);
    if (answers.length !== 1) throw new Error(`expected one answer to the ${type} request, got ${answers.length}`);
    return answers[0].body;
  }

  private async failUpdate(before: Deployed | undefined, created: JobProperties[], rollback: boolean): Promise<DeployResult> {
    if (!rollback) {
      this.stuck = { before, created };
      return 'failed';
    }
    await this.rollBackTo(before, created);
    return 'rolled-back';
  }

  private async rollBackTo(before: Deployed | undefined, created: JobProperties[]): Promise<void> {
    const failed = this.deployed;
    this.stackStatus = before ? 'UPDATE_ROLLBACK_IN_PROGRESS' : 'ROLLBACK_IN_PROGRESS';
    if (before && failed && failed !== before) {
      const answer = await this.request('Update', before.jobs, failed);
      this.deployed = { jobs: before.jobs, physicalId: answer.PhysicalResourceId };
      this.stackStatus = 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS';
      if (failed.physicalId !== answer.PhysicalResourceId) await this.request('Delete', failed.jobs, failed);
    } else if (!before && failed) {
      await this.request('Delete', failed.jobs, failed);
      this.deployed = undefined;
    }
    this.pendingCleanup = undefined;
    for (const job of created) this.dropWait(job.Key);
  }

  /** Retries a deploy left in UPDATE_FAILED (rollback disabled): only the failed waits run again. */
  public async retry(): Promise<DeployResult> {
    const stuck = this.stuck;
    if (!stuck) throw new Error('nothing to retry');
    for (const job of stuck.created) {
      const wait = this.waits.get(job.Key)!;
      if (wait.state === 'failed') this.waits.set(job.Key, { key: job.Key, handle: wait.handle, state: 'waiting' });
    }
    this.stuck = undefined;
    this.inFlight = { ...stuck, rollback: false };
    return this.settle();
  }

  private dropLeftovers(): void {
    const keys = new Set((this.deployed?.jobs ?? []).map((j) => j.Key));
    for (const key of [...this.waits.keys()]) if (!keys.has(key)) this.dropWait(key);
  }

  private dropWait(key: string): void {
    this.waits.delete(key);
    const handle = this.handles.get(key);
    if (handle) handle.deleted = true;
    this.handles.delete(key);
  }

  private jobOf(a: ArtifactSpec): JobProperties {
    return {
      Key: keyOf(a),
      Kind: 'container-build',
      Path: `app/Image-${a.fingerprint}`,
      Fingerprint: a.fingerprint,
      Handle: '',
      TimeoutSeconds: String((a.timeoutMinutes ?? 60) * 60),
      Spec: { Image: a.fingerprint, ...(a.destroy ? { RemovalPolicy: 'destroy' } : {}) },
    };
  }

  private async put(url: string, body: string): Promise<void> {
    const parsed = JSON.parse(body);
    if (url.includes('response-')) {
      if (this.crashBeforeAnswer > 0) {
        this.crashBeforeAnswer--;
        throw new Error('the function crashed before it answered');
      }
      this.puts.push({ url, body: parsed });
      return;
    }
    const handle = [...this.handles.values()].find((h) => h.url === url);
    if (!handle || handle.deleted || this.now - handle.createdAt > HANDLE_LIFETIME) {
      throw Object.assign(new Error('wait-condition handle answered HTTP 403: AccessDenied (Request has expired)'), { $metadata: { httpStatusCode: 403 } });
    }
    this.puts.push({ url, body: parsed });
    // A signal with a UniqueId the handle holds already is a retransmission: ignored.
    if (!handle.signals.some((s) => s.UniqueId === parsed.UniqueId)) handle.signals.push(parsed);
  }
}

function keyOf(a: ArtifactSpec): string {
  return `Wait${a.fingerprint}${a.timeoutMinutes ?? 60}${a.retry ?? ''}`;
}

function newHandle(key: string, now: number): Handle {
  return { url: `https://cloudformation-waitcondition-eu-west-1.s3.amazonaws.com/arn%3Aaws%3Acloudformation%3Aeu-west-1%3A123456789012%3Astack/app/${key}?X-Amz-Expires=86399&X-Amz-Signature=SECRET-${key}-${now}`, createdAt: now, deleted: false, signals: [] };
}

/** A wait condition counts every signal its handle holds: one failure fails it, one success (Count 1) completes it. */
function evaluate(wait: Wait, _now: number): void {
  if (wait.state !== 'waiting') return;
  const failure = wait.handle.signals.find((s) => s.Status === 'FAILURE');
  if (failure) {
    wait.state = 'failed';
    wait.reason = failure.Reason;
    return;
  }
  const success = wait.handle.signals.find((s) => s.Status === 'SUCCESS');
  if (success) {
    wait.state = 'complete';
    // Fn::GetAtt Data is {"<UniqueId>":"<Data>"}; the construct reads it with Fn::Select(3, Fn::Split('"', ...)).
    const data = JSON.stringify({ [success.UniqueId]: success.Data });
    wait.data = data.split('"')[3];
  }
}

function remaining(ms: number) {
  return { getRemainingTimeInMillis: () => ms };
}
