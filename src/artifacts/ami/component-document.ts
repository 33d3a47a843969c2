import type * as Yaml from 'yaml';

/**
 * The YAML parser, loaded on first use: only `BakeStep.document()` parses YAML, so an app that never
 * calls it does not pay for loading the parser on every synth.
 */
let yamlModule: typeof Yaml | undefined;
function parseDocument(text: string, options?: Yaml.ParseOptions & Yaml.DocumentOptions): Yaml.Document.Parsed {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  yamlModule ??= require('yaml') as typeof Yaml;
  return yamlModule.parseDocument(text, options);
}

/**
 * Synth-time checks of EC2 Image Builder component documents (AWSTOE documents).
 * Internal: not exported from the package.
 */

/** The most characters Image Builder accepts in a component's inline `data`. */
export const MAX_COMPONENT_DATA = 16_000;

/** The phases AWSTOE runs. */
export const PHASES = ['build', 'validate', 'test'];

/**
 * Every AWSTOE action module (https://docs.aws.amazon.com/imagebuilder/latest/userguide/toe-action-modules.html).
 */
export const KNOWN_ACTIONS = [
  // general execution
  'Assert', 'ExecuteBash', 'ExecuteBinary', 'ExecuteDocument', 'ExecutePowerShell',
  // file download and upload
  'S3Download', 'S3Upload', 'WebDownload',
  // file system
  'AppendFile', 'CopyFile', 'CopyFolder', 'CreateFile', 'CreateFolder', 'CreateSymlink', 'DeleteFile',
  'DeleteFolder', 'ListFiles', 'MoveFile', 'MoveFolder', 'ReadFile', 'SetFileEncoding', 'SetFileOwner',
  'SetFolderOwner', 'SetFilePermissions', 'SetFolderPermissions',
  // software installation
  'InstallMSI', 'UninstallMSI',
  // system actions
  'Reboot', 'SetRegistry', 'UpdateOS',
];

/**
 * Checks a component document and returns what is wrong with it, one problem an entry,
 * or an empty list when it is sound.
 */
export function componentDocumentProblems(text: string): string[] {
  if (text.trim().length === 0) return ['the document is empty'];
  if (text.length > MAX_COMPONENT_DATA) {
    return [`the document has ${text.length} characters; Image Builder accepts at most ${MAX_COMPONENT_DATA}. Split it into several steps, or ship long scripts with BakeStep.file()`];
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      const firstLine = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      return pos ? `YAML syntax error at line ${pos.line}, column ${pos.col}: ${firstLine}` : `YAML syntax error: ${firstLine}`;
    });
  }
  const root: unknown = doc.toJS();
  if (!isMap(root)) return ['the document must be a YAML mapping with schemaVersion and phases'];

  const problems: string[] = [];
  const version = root.schemaVersion;
  if (version === undefined) {
    problems.push("schemaVersion is missing; add 'schemaVersion: 1.0'");
  } else if (!(version === 1 || version === '1.0')) {
    problems.push(`schemaVersion is ${JSON.stringify(version)}; AWSTOE documents use 'schemaVersion: 1.0'`);
  }
  const phases = root.phases;
  if (!Array.isArray(phases) || phases.length === 0) {
    problems.push(`phases must be a non-empty list of phases (${PHASES.join(', ')}), each with steps`);
    return problems;
  }
  const seenPhases = new Set<string>();
  phases.forEach((phase, i) => {
    if (!isMap(phase)) {
      problems.push(`phases[${i}] must be a mapping with name and steps`);
      return;
    }
    const name = phase.name;
    if (typeof name !== 'string' || !PHASES.includes(name)) {
      problems.push(`phases[${i}].name is ${JSON.stringify(name)}; use one of ${PHASES.join(', ')}`);
    } else if (seenPhases.has(name)) {
      problems.push(`phase '${name}' appears twice; merge its steps into one phase`);
    } else {
      seenPhases.add(name);
    }
    const label = typeof name === 'string' ? `phase '${name}'` : `phases[${i}]`;
    const steps = phase.steps;
    if (!Array.isArray(steps) || steps.length === 0) {
      problems.push(`${label} must have a non-empty list of steps`);
      return;
    }
    const seenSteps = new Set<string>();
    steps.forEach((step, j) => {
      if (!isMap(step)) {
        problems.push(`${label} steps[${j}] must be a mapping with name and action`);
        return;
      }
      const stepName = step.name;
      if (typeof stepName !== 'string' || !/^[A-Za-z0-9_-]+$/.test(stepName)) {
        problems.push(`${label} steps[${j}].name is ${JSON.stringify(stepName)}; use letters, digits, '-' and '_'`);
      } else if (seenSteps.has(stepName)) {
        problems.push(`${label} has two steps named '${stepName}'; step names must be unique within a phase`);
      } else {
        seenSteps.add(stepName);
      }
      const action = step.action;
      if (typeof action !== 'string' || !KNOWN_ACTIONS.includes(action)) {
        const stepLabel = typeof stepName === 'string' ? `step '${stepName}'` : `steps[${j}]`;
        problems.push(`${label} ${stepLabel} has action ${JSON.stringify(action)}, which AWSTOE does not know; use one of ${KNOWN_ACTIONS.join(', ')}`);
      }
    });
  });
  return problems;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The names of the phases of a sound component document. */
export function documentPhases(text: string): string[] {
  const root: unknown = parseDocument(text).toJS();
  if (!isMap(root) || !Array.isArray(root.phases)) return [];
  return root.phases.filter(isMap).map((p) => p.name).filter((n): n is string => typeof n === 'string');
}

/** The phases a step output is chained from: `{{ <phase>.<step>.outputs.<name> }}`. */
const CHAINED = new RegExp(`^(${PHASES.join('|')})\\.[A-Za-z0-9_-]+\\.(outputs|inputs)(\\.|\\[|$)`);

/**
 * The `{{ ... }}` references of a sound component document that AWSTOE cannot resolve: AWSTOE reads
 * every `{{ name }}` as a variable (a parameter or constant the document declares, a loop's value or
 * index, or a step's output chained as `{{ phase.step.outputs.name }}`) and documents no escape, so
 * text meant for another tool (`docker ps --format '{{.ID}}'`, a Helm or Ansible template) fails or
 * changes on the build instance. One problem an entry.
 */
export function undeclaredVariables(text: string): string[] {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return [];
  const root: unknown = doc.toJS();
  if (!isMap(root)) return [];
  const declared = new Set<string>([...namesOf(root.parameters), ...namesOf(root.constants)]);
  const loops = new Set<string>(['loop']);
  collectLoopNames(root.phases, loops);
  const problems: string[] = [];
  const seen = new Set<string>();
  forEachString(root.phases, (value) => {
    for (const match of value.matchAll(/\{\{(.*?)\}\}/gs)) {
      const name = match[1].trim();
      const loop = /^([A-Za-z0-9_-]+)\.(value|index)$/.exec(name);
      if (declared.has(name) || CHAINED.test(name) || (loop && loops.has(loop[1])) || seen.has(name)) continue;
      seen.add(name);
      problems.push(`'{{${match[1]}}}' is not a parameter, constant, loop value or step output of this document, and AWSTOE reads every {{ ... }} as one (it documents no escape)`);
    }
  });
  return problems;
}

/** The names of a `parameters` or `constants` list: `- <name>: { type, ... }`. */
function namesOf(list: unknown): string[] {
  return Array.isArray(list) ? list.filter(isMap).flatMap((entry) => Object.keys(entry)) : [];
}

function collectLoopNames(value: unknown, names: Set<string>): void {
  if (Array.isArray(value)) {
    value.forEach((v) => collectLoopNames(v, names));
  } else if (isMap(value)) {
    if (isMap(value.loop) && typeof value.loop.name === 'string') names.add(value.loop.name);
    Object.values(value).forEach((v) => collectLoopNames(v, names));
  }
}

function forEachString(value: unknown, visit: (s: string) => void): void {
  if (typeof value === 'string') visit(value);
  else if (Array.isArray(value)) value.forEach((v) => forEachString(v, visit));
  else if (isMap(value)) Object.values(value).forEach((v) => forEachString(v, visit));
}
