/**
 * What a deployed stack's status means for the next `cdk deploy`, as CloudFormation and the CDK CLI
 * handle it: a stack whose first create failed is deleted and created again, a stack paused by a
 * failed `--no-rollback` deploy is rolled back first (or retried), an operation under way makes the
 * deploy fail until it ends.
 *
 * Internal to the plan command: never exported from the package.
 */
import { RETRY_CONTEXT } from '../internal/runtime/runtime';

/** What the plan does with a stack in a status. */
export interface StatusReading {
  /** What the deploy does to the stack. */
  readonly change: 'update' | 'create' | 'recreate';
  /** Whether the deployed template is what the deploy starts from (compare with it), or every resource is new. */
  readonly compare: boolean;
  /** The status and what the deploy will do, in words, when it needs saying. */
  readonly note?: string;
  /** A stack left failed by a deploy with `--no-rollback`: its failed result lookups and waits are looked up. */
  readonly paused: boolean;
}

/** The retry word's context, as a user passes it. */
export const RETRY_WORDS = `-c ${RETRY_CONTEXT}=<new word>`;

const SETTLED = ['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE', 'IMPORT_ROLLBACK_COMPLETE'];
const UNDER_WAY = [
  'CREATE_IN_PROGRESS', 'UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS',
  'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', 'IMPORT_IN_PROGRESS', 'IMPORT_ROLLBACK_IN_PROGRESS',
];

/**
 * What a stack's status means for the next deploy.
 *
 * @param status CloudFormation's `StackStatus`
 * @param reason its `StackStatusReason`, if any
 * @param nested whether the stack is a nested stack (deployed only through its parent)
 */
export function readStatus(status: string, reason: string | undefined, nested: boolean): StatusReading {
  const why = reason ? ` (${bounded(reason)})` : '';
  const deploy = nested ? 'the deploy of its parent' : 'cdk deploy';
  if (SETTLED.includes(status)) return { change: 'update', compare: true, paused: false };
  if (UNDER_WAY.includes(status)) {
    return {
      change: 'update',
      compare: true,
      paused: false,
      note: `${status}: an operation is under way, and CloudFormation takes one at a time, so ${deploy} fails until it ends: plan again then. Compared with the template it is applying.`,
    };
  }
  switch (status) {
    case 'ROLLBACK_COMPLETE':
    case 'ROLLBACK_FAILED':
      return {
        change: 'recreate',
        compare: false,
        paused: false,
        note: `${status}${why}: its first create failed${status === 'ROLLBACK_FAILED' ? ', and so did its rollback' : ''}. ${deploy} deletes it and creates it again, so every resource is new${status === 'ROLLBACK_FAILED' ? ' (if what the rollback left blocks the delete, the deploy stops: delete the stack first)' : ''}.`,
      };
    case 'ROLLBACK_IN_PROGRESS':
      return {
        change: 'recreate',
        compare: false,
        paused: false,
        note: `${status}: its first create failed and is being rolled back; ${deploy} fails until that ends, then deletes it and creates it again, so every resource is new.`,
      };
    case 'CREATE_FAILED':
      return {
        change: 'recreate',
        compare: false,
        paused: false,
        note: `${status}${why}: a create with --no-rollback failed. ${deploy} rolls it back first (it asks, or --force), which deletes a stack that never completed a create, then creates it again, so every resource is new; cdk deploy --no-rollback ${RETRY_WORDS} retries from where it stopped instead.`,
      };
    case 'UPDATE_FAILED':
      return {
        change: 'update',
        compare: true,
        paused: true,
        note: `${status}${why}: an update with --no-rollback failed. ${deploy} rolls it back first (it asks, or --force), then deploys; cdk deploy --no-rollback retries from where it stopped, and a failed build needs a new retry word (${RETRY_WORDS}): without one its failed result lookup fails again at once, and a wait that got no signal is created again and can wait its whole timeout; a change that replaces a resource needs the rollback. Compared with the template of the failed update.`,
      };
    case 'UPDATE_ROLLBACK_FAILED':
    case 'IMPORT_ROLLBACK_FAILED':
      return {
        change: 'update',
        compare: true,
        paused: false,
        note: `${status}${why}: a rollback failed. ${deploy} continues the rollback first (it asks, or --force; cdk rollback does it alone), then deploys; a resource that blocks the rollback must be fixed, or skipped (cdk rollback --orphan <logical id>). Compared with the template CloudFormation returns now.`,
      };
    case 'REVIEW_IN_PROGRESS':
      return { change: 'create', compare: false, paused: false, note: `${status}: created by a change set that was never executed, with no resources: ${deploy} creates it.` };
    case 'DELETE_IN_PROGRESS':
      return { change: 'recreate', compare: false, paused: false, note: `${status}: it is being deleted; deploy once the delete ends, which then creates it anew, so every resource is new.` };
    case 'DELETE_FAILED':
      return {
        change: 'recreate',
        compare: false,
        paused: false,
        note: `${status}${why}: a delete failed, and CloudFormation takes nothing but another delete, so ${deploy} fails. Delete it again (retaining what blocks the delete), then deploy, which creates it anew: every resource is new.`,
      };
    case 'DELETE_COMPLETE':
      return { change: 'create', compare: false, paused: false, note: `${status}: deleted; ${deploy} creates it.` };
    default:
      return { change: 'update', compare: true, paused: false, note: `${status}${why}: a status the plan does not know. Compared with the template CloudFormation returns.` };
  }
}

/** Whether a resource's status says its last operation failed. */
export function isFailed(resourceStatus: string | undefined): boolean {
  return resourceStatus !== undefined && resourceStatus.endsWith('_FAILED');
}

function bounded(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}
