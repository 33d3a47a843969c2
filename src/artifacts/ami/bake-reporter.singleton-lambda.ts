/**
 * The reporter of AMI bakes: EventBridge invokes it when an image of a bake's recipe version
 * ends (AVAILABLE, FAILED or CANCELLED), with the image ARN and the bake's wait-condition handle.
 * It signals the wait condition: success with the AMI id of this region as the signal's data, or
 * failure with the state's reason, the failed workflow step and component, the tail of the build
 * log and where the whole log is, bounded and stripped of unprintable characters.
 *
 * Throttling and transient faults are retried; they never turn into a failure signal.
 */
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  GetImageCommand,
  Image,
  ImagebuilderClient,
  ListWorkflowExecutionsCommand,
  ListWorkflowStepExecutionsCommand,
} from '@aws-sdk/client-imagebuilder';
import { SIGNAL_ID } from './types';
import type { ReporterEvent } from './types';
import { MAX_SIGNAL_REASON_BYTES, sendSignal } from '../../internal/ami-signal';
import { FailurePart, errorText, failureMessage, isRetryable, lastLines } from '../../internal/failure';

const imagebuilder = new ImagebuilderClient({});
const logs = new CloudWatchLogsClient({});

/** How many lines of the build log a failure carries. */
export const LOG_TAIL_LINES = 20;

/** Retry pacing; tests make it fast. */
export const retrySettings = { baseDelayMs: 1_000, maxDelayMs: 20_000, budgetMs: 240_000 };

const TERMINAL = new Set(['AVAILABLE', 'FAILED', 'CANCELLED']);

export async function handler(event: ReporterEvent): Promise<void> {
  const image = await retrying(async () => (await imagebuilder.send(new GetImageCommand({ imageBuildVersionArn: event.imageArn }))).image);
  const status = image?.state?.status ?? 'UNKNOWN';
  if (!image || !TERMINAL.has(status)) {
    console.log(`${event.imageArn} is ${status}: not finished, nothing to signal.`);
    return;
  }
  if (status === 'AVAILABLE') {
    const region = process.env.AWS_REGION;
    const amis = image.outputResources?.amis ?? [];
    const ami = amis.find((a) => a.region === region) ?? (amis.length === 1 ? amis[0] : undefined);
    if (ami?.image) {
      await retrying(() => sendSignal(event.handle, { Status: 'SUCCESS', Reason: `Baked ${ami.image} (${event.imageArn})`, UniqueId: SIGNAL_ID, Data: ami.image! }));
      console.log(`Signalled success: ${ami.image}`);
      return;
    }
    await retrying(() => sendSignal(event.handle, {
      Status: 'FAILURE',
      Reason: failureMessage(`AMI bake ${event.imageArn} is AVAILABLE but has no AMI in ${region}.`, [
        { label: 'AMIs', text: amis.map((a) => `${a.region}: ${a.image}`).join(', ') || 'none' },
      ], MAX_SIGNAL_REASON_BYTES),
      UniqueId: SIGNAL_ID,
      Data: event.imageArn,
    }));
    return;
  }
  const reason = await describeFailure(event.imageArn, image);
  await retrying(() => sendSignal(event.handle, { Status: 'FAILURE', Reason: reason, UniqueId: SIGNAL_ID, Data: event.imageArn }));
  console.log(`Signalled failure: ${reason}`);
}

/** The log group and stream of an image's build: `/aws/imagebuilder/<name>` and `<version>/<build>`. */
export function logLocation(imageArn: string): { group: string; stream: string } | undefined {
  const match = /:image\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(imageArn);
  return match ? { group: `/aws/imagebuilder/${match[1]}`, stream: `${match[2]}/${match[3]}` } : undefined;
}

/** Builds the bounded failure reason of a FAILED or CANCELLED image. */
export async function describeFailure(imageArn: string, image: Image): Promise<string> {
  const status = image.state?.status ?? 'FAILED';
  const parts: FailurePart[] = [];
  if (image.state?.reason) parts.push({ label: 'Reason', text: image.state.reason });

  const failedSteps = await retrying(() => failedWorkflowSteps(imageArn)).catch((e) => [`(could not read the workflow: ${errorText(e)})`]);
  if (failedSteps.length > 0) parts.push({ label: 'Failed step', text: failedSteps.join('; ') });

  const location = logLocation(imageArn);
  let tail: string[] = [];
  if (location) {
    tail = await retrying(() => logTail(location.group, location.stream)).catch((e) => [`(could not read the log: ${errorText(e)})`]);
  }
  const component = failedComponent([image.state?.reason ?? '', ...failedSteps, ...tail]);
  if (component) parts.push({ label: 'Failed component', text: component });
  if (tail.length > 0) parts.push({ label: 'Log tail', text: tail.join('\n'), keepEnd: true });
  if (location) parts.push({ label: 'Full log', text: `CloudWatch Logs group ${location.group}, stream ${location.stream}` });

  return failureMessage(`AMI bake ${status}: ${imageArn}`, parts, MAX_SIGNAL_REASON_BYTES);
}

async function failedWorkflowSteps(imageArn: string): Promise<string[]> {
  const executions = (await imagebuilder.send(new ListWorkflowExecutionsCommand({ imageBuildVersionArn: imageArn }))).workflowExecutions ?? [];
  const out: string[] = [];
  for (const execution of executions) {
    if (execution.status !== 'FAILED' || !execution.workflowExecutionId) continue;
    const request = new ListWorkflowStepExecutionsCommand({ workflowExecutionId: execution.workflowExecutionId });
    const steps = (await imagebuilder.send(request)).steps ?? [];
    for (const step of steps) {
      if (step.status !== 'FAILED') continue;
      out.push(`${execution.type ?? 'workflow'} step ${step.name} (${step.action})${step.message ? `: ${step.message}` : ''}`);
    }
    if (out.length === 0 && execution.message) out.push(`${execution.type ?? 'workflow'}: ${execution.message}`);
  }
  return out;
}

async function logTail(group: string, stream: string): Promise<string[]> {
  try {
    const request = new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, startFromHead: false, limit: 100 });
    const events = (await logs.send(request)).events ?? [];
    return lastLines(events.map((e) => e.message ?? '').join('\n'), LOG_TAIL_LINES);
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return ['(no build log: the instance never started logging)'];
    throw error;
  }
}

/** The name of the component that failed, from the last text that names one near a failure. */
export function failedComponent(texts: string[]): string | undefined {
  const lines = texts.flatMap((t) => t.split('\n'));
  const arn = /arn:aws[a-z-]*:imagebuilder:[^:\s]*:[^:\s]*:component\/([a-z0-9-_]+)\/[0-9x.]+/;
  let any: string | undefined;
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = arn.exec(lines[i]);
    if (!match) continue;
    if (/fail|error/i.test(lines[i])) return match[1];
    any = any ?? match[1];
  }
  return any;
}

/** Runs `fn`, retrying throttling and transient faults with backoff within the time budget. */
export async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + retrySettings.budgetMs;
  let delay = retrySettings.baseDelayMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (!isRetryable(error) || Date.now() + delay > deadline) throw error;
      console.log(`Retrying after ${errorText(error)}`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, retrySettings.maxDelayMs);
    }
  }
}
