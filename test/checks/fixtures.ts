import { App, AspectPriority, Aspects, Stack, cx_api as cxapi } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { ImmutabilityChecks, ImmutabilityChecksProps } from '../../src';

/** One finding of ImmutabilityChecks: its level, rule, construct path and message. */
export interface CheckFinding {
  readonly level: 'error' | 'warning';
  readonly rule: string;
  readonly path: string;
  readonly message: string;
}

/** A stack in an app that runs ImmutabilityChecks. */
export function checkedStack(props: ImmutabilityChecksProps = {}, app = new App()): Stack {
  Aspects.of(app).add(new ImmutabilityChecks(props), { priority: AspectPriority.READONLY });
  return new Stack(app, 'Stack', { env: { account: '111111111111', region: 'us-east-1' } });
}

/** Adds ImmutabilityChecks to an app. */
export function check(app: App, props: ImmutabilityChecksProps = {}): void {
  Aspects.of(app).add(new ImmutabilityChecks(props), { priority: AspectPriority.READONLY });
}

/** The findings of ImmutabilityChecks in a stack (synthesizes it). */
export function findingsOf(stack: Stack): CheckFinding[] {
  const annotations = Annotations.fromStack(stack);
  const read = (level: 'error' | 'warning', messages: any[]): CheckFinding[] => messages.flatMap((m) => {
    const text = String(m.entry.data);
    const id = text.match(/cdk-immutable-deploys:([a-z0-9-]+)/);
    if (!id || !ImmutabilityChecks.RULE_IDS.includes(id[1])) return [];
    return [{ level, rule: id[1], path: m.id, message: text }];
  });
  return [...read('error', annotations.findError('*', Match.anyValue())), ...read('warning', annotations.findWarning('*', Match.anyValue()))];
}

/** The findings of ImmutabilityChecks in a synthesized cloud assembly, every stack of it. */
export function findingsOfAssembly(assembly: cxapi.CloudAssembly): CheckFinding[] {
  return assembly.stacksRecursively.flatMap((stack) => stack.messages.flatMap((m) => {
    const text = String(m.entry.data);
    const id = text.match(/cdk-immutable-deploys:([a-z0-9-]+)/);
    if (!id || !ImmutabilityChecks.RULE_IDS.includes(id[1]) || (m.level !== 'error' && m.level !== 'warning')) return [];
    return [{ level: m.level, rule: id[1], path: m.id, message: text }];
  }));
}

/** `rule level path` of each finding, sorted: what a test compares. */
export function summary(stack: Stack): string[] {
  return findingsOf(stack).map((f) => `${f.rule} ${f.level} ${f.path}`).sort();
}
