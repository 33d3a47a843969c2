import { componentDocumentProblems, documentPhases, KNOWN_ACTIONS, MAX_COMPONENT_DATA } from '../../../src/artifacts/ami/component-document';

const GOOD = `name: web
description: installs nginx
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Install
        action: ExecuteBash
        inputs:
          commands:
            - dnf install -y nginx
  - name: test
    steps:
      - name: Check
        action: ExecuteBash
        inputs:
          commands: [rpm -q nginx]
`;

describe('component document checks', () => {
  test('a sound document has no problems, and its phases are read', () => {
    expect(componentDocumentProblems(GOOD)).toEqual([]);
    expect(documentPhases(GOOD)).toEqual(['build', 'test']);
  });

  test('YAML syntax errors carry the line', () => {
    const problems = componentDocumentProblems('schemaVersion: 1.0\nphases:\n  - name: build\n    steps: [\n      oops: {\n');
    expect(problems[0]).toMatch(/^YAML syntax error at line \d+, column \d+: /);
  });

  test('duplicate keys are errors', () => {
    expect(componentDocumentProblems('schemaVersion: 1.0\nschemaVersion: 1.0\nphases: []\n')[0]).toMatch(/YAML syntax error at line 2/);
  });

  test('schemaVersion, phases, steps and actions are checked', () => {
    expect(componentDocumentProblems('phases:\n  - name: build\n    steps:\n      - name: A\n        action: ExecuteBash\n')).toEqual(["schemaVersion is missing; add 'schemaVersion: 1.0'"]);
    expect(componentDocumentProblems('schemaVersion: 2.0\nphases: []\n')).toEqual([
      "schemaVersion is 2; AWSTOE documents use 'schemaVersion: 1.0'",
      'phases must be a non-empty list of phases (build, validate, test), each with steps',
    ]);
    expect(componentDocumentProblems('schemaVersion: 1.0\nphases:\n  - name: deploy\n    steps: []\n')).toEqual([
      'phases[0].name is "deploy"; use one of build, validate, test',
      "phase 'deploy' must have a non-empty list of steps",
    ]);
    expect(componentDocumentProblems('schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: A\n        action: ExecuteBash\n      - name: A\n        action: Teleport\n')).toEqual([
      "phase 'build' has two steps named 'A'; step names must be unique within a phase",
      `phase 'build' step 'A' has action "Teleport", which AWSTOE does not know; use one of ${KNOWN_ACTIONS.join(', ')}`,
    ]);
    expect(componentDocumentProblems('- just a list')).toEqual(['the document must be a YAML mapping with schemaVersion and phases']);
    expect(componentDocumentProblems('  ')).toEqual(['the document is empty']);
  });

  test('a document over Image Builder\'s size limit is refused', () => {
    const big = GOOD + `# ${'x'.repeat(MAX_COMPONENT_DATA)}\n`;
    expect(componentDocumentProblems(big)[0]).toMatch(/Image Builder accepts at most 16000/);
  });
});
