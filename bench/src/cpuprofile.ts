/**
 * Reads a V8 CPU profile (`node --cpu-prof`) and tells where the time went: inclusive time of the
 * frames that match, and self time by module (the package or folder a function's file lives in).
 */
import * as fs from 'fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: number[];
}

interface Profile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
  readonly startTime: number;
  readonly endTime: number;
}

type FrameTest = (fn: string, url: string) => boolean;

/** A frame to time: a test on it, optionally only where a frame matching `within` is further up the stack. */
export type FrameLabel = FrameTest | { readonly test: FrameTest; readonly within: FrameTest };

export interface ProfileSummary {
  /** Milliseconds of samples whose stack holds a frame of `label` (counted once per sample, so recursion does not inflate it). */
  readonly inclusiveMs: { [label: string]: number };
  /** Milliseconds of samples whose top frame lives in `module`. */
  readonly selfByModuleMs: { [module: string]: number };
  readonly totalMs: number;
}

/** The package (or folder of this repository) a script URL belongs to, e.g. `aws-cdk-lib/aws-stepfunctions`. */
export function moduleOf(url: string): string {
  if (!url) return '(native, GC or idle)';
  if (url.startsWith('node:')) return 'node (built-in modules)';
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = file.slice(nm + '/node_modules/'.length).split('/');
    const pkg = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
    const rest = parts.slice(pkg.split('/').length);
    // aws-cdk-lib is one package of many modules: name the module.
    if (pkg === 'aws-cdk-lib' && rest.length > 1) return `aws-cdk-lib/${rest[0]}`;
    return pkg;
  }
  const lib = file.indexOf('/lib/');
  if (lib >= 0 && !file.includes('/bench/')) return `this library: lib/${file.slice(lib + 5).split('/').slice(0, -1).join('/')}`;
  return file;
}

/**
 * Summarizes `file`. `labels` maps a label to a predicate on a frame (function name and URL): a
 * sample counts towards every label one of its frames matches.
 */
export function summarize(file: string, labels: { [label: string]: FrameLabel }): ProfileSummary {
  const profile: Profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const inclusive: { [label: string]: number } = Object.fromEntries(Object.keys(labels).map((l) => [l, 0]));
  const self: { [module: string]: number } = {};
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    total += ms;
    const top = byId.get(profile.samples[i])!;
    const module = top.callFrame.functionName === '(garbage collector)' ? '(garbage collector)' : moduleOf(top.callFrame.url);
    self[module] = (self[module] ?? 0) + ms;
    const stack: ProfileNode['callFrame'][] = [];
    for (let id: number | undefined = top.id; id !== undefined; id = parent.get(id)) stack.push(byId.get(id)!.callFrame);
    stack.reverse(); // root first
    const matched = new Set<string>();
    for (const [label, spec] of Object.entries(labels)) {
      const test = typeof spec === 'function' ? spec : spec.test;
      const start = typeof spec === 'function' ? 0 : stack.findIndex((f) => spec.within(f.functionName, f.url)) + 1;
      if (start === 0 && typeof spec !== 'function') continue;
      if (stack.slice(start).some((f) => test(f.functionName, f.url))) matched.add(label);
    }
    for (const label of matched) inclusive[label] += ms;
  }
  return { inclusiveMs: inclusive, selfByModuleMs: self, totalMs: total };
}
