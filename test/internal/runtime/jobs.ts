/**
 * Reading the deploy-time jobs of a synthesized stack: the entries of its jobs resource.
 */
import { Template } from 'aws-cdk-lib/assertions';
import type { Retry } from '../../../src/internal/runtime/job';

/** One job of the jobs resource, as the template holds it. */
export interface TemplateJob {
  readonly Key: string;
  readonly Kind: string;
  readonly Path: string;
  readonly Fingerprint: string;
  readonly Handle: unknown;
  readonly TimeoutSeconds: string;
  readonly Spec: { [name: string]: any };
}

/** The jobs of the stack's jobs resources (a second one holds the jobs that read the first one's results). */
export function jobsOf(template: Template): TemplateJob[] {
  const resources = Object.values(template.findResources('Custom::CdkImmutableDeploysJobs')) as any[];
  return resources.flatMap((r) => r.Properties.Jobs);
}

/** The one job of a construct path. */
export function jobOf(template: Template, path: string): TemplateJob {
  const jobs = jobsOf(template).filter((j) => j.Path === path);
  if (jobs.length !== 1) throw new Error(`expected one job of ${path}, found ${jobs.length} among ${jobsOf(template).map((j) => j.Path).join(', ')}`);
  return jobs[0];
}

/** The statements of the runtime function's policy. */
export function runtimeStatements(template: Template): any[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.entries(policies)
    .filter(([id]) => /^CdkImmutableDeploysRuntime.*ServiceRoleDefaultPolicy/.test(id))
    .flatMap(([, p]) => (p as any).Properties.PolicyDocument.Statement);
}

/**
 * A job's `retry` as the runtime gives it, without pauses: throttling is tried again, anything else
 * thrown. `retried` lists the errors it tried again after.
 */
export function throttlingRetry(): { retry: Retry; retried: string[] } {
  const retried: string[] = [];
  const retry: Retry = async (fn) => {
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if ((e as Error).name !== 'ThrottlingException') throw e;
        retried.push((e as Error).name);
      }
    }
  };
  return { retry, retried };
}

/** An ARN of a template (a string, or an `Fn::Join` with `AWS::Partition`) as text, the partition written as `aws`. */
export function arnText(r: any): string {
  if (typeof r === 'string') return r;
  return r['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : p.Ref === 'AWS::Partition' ? 'aws' : JSON.stringify(p))).join('');
}
