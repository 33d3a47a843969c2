/**
 * The runtime's memory of pending jobs: one SSM SecureString parameter per job, under the stack's
 * own path, written when an attempt starts and deleted once its wait is signalled. It holds the
 * wait-condition handle, so it is encrypted (the AWS managed key of SSM) and never logged.
 *
 * Internal: never exported from the package.
 */
import {
  DeleteParameterCommand,
  GetParametersByPathCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import type { JobProperties } from './protocol';

/** A job whose attempt has not been signalled yet. */
export interface PendingJob {
  readonly job: JobProperties;
  /** The attempt's id: its signal's UniqueId and part of its tokens. */
  readonly attempt: string;
  /** The running attempt (a build id, an image ARN); absent while a quota keeps it from starting. */
  readonly ref?: string;
  /** Why it could not start yet (a full quota). */
  readonly throttled?: string;
  /** When the attempt was first tried, in ms since the epoch. */
  readonly since: number;
  /** The tag that marks its artifact as used by the stack, for kinds that hold artifacts. */
  readonly holdTag?: string;
  /** The logical id of the jobs resource that started it. */
  readonly owner: string;
}

const ssm = new SSMClient({});

/** The parameter of a job: `<path>/<key>`. */
function nameOf(path: string, key: string): string {
  return `${path}/${key}`;
}

export async function saveJob(path: string, pending: PendingJob): Promise<void> {
  await ssm.send(new PutParameterCommand({
    Name: nameOf(path, pending.job.Key),
    Value: JSON.stringify(pending),
    Type: 'SecureString',
    Overwrite: true,
    // Past 4 KB (a long handle URL and a job's settings), SSM moves it to the advanced tier.
    Tier: 'Intelligent-Tiering',
    Description: `cdk-immutable-deploys: pending ${pending.job.Kind} of ${pending.job.Path}`.slice(0, 1024),
  }));
}

export async function deleteJob(path: string, key: string): Promise<void> {
  try {
    await ssm.send(new DeleteParameterCommand({ Name: nameOf(path, key) }));
  } catch (e) {
    if (e instanceof ParameterNotFound || (e as Error).name === 'ParameterNotFound') return;
    throw e;
  }
}

/** Every pending job of the stack. */
export async function pendingJobs(path: string): Promise<PendingJob[]> {
  const out: PendingJob[] = [];
  let nextToken: string | undefined;
  do {
    const request = new GetParametersByPathCommand({ Path: path, Recursive: false, WithDecryption: true, NextToken: nextToken, MaxResults: 10 });
    const page = await ssm.send(request);
    for (const parameter of page.Parameters ?? []) {
      try {
        out.push(JSON.parse(parameter.Value ?? '') as PendingJob);
      } catch {
        console.log(`Ignoring the unreadable state parameter ${parameter.Name}`);
      }
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return out;
}
