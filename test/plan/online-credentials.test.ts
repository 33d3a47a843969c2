import * as fs from 'fs';
import * as path from 'path';
import { cleanUp, tempDir } from './fixtures';
import { EXIT, main } from '../../src/plan/cli';

/**
 * Online mode without credentials or a region, with the real AWS SDK clients (no mocks): the SDK's
 * credential chain and region resolution fail before any request (aws-behaviour.md #46), and the plan
 * says what is missing. The instance metadata service is turned off, so nothing reaches the network.
 */
const SAVED = { ...process.env };

/** A cloud assembly of one environment-agnostic stack, written by hand (no synth needed). */
function assembly(): string {
  const dir = tempDir('plan-hand-out-');
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({
    version: '54.0.0',
    artifacts: {
      Web: { type: 'aws:cloudformation:stack', environment: 'aws://unknown-account/unknown-region', properties: { templateFile: 'Web.template.json' }, displayName: 'Web' },
    },
  }));
  fs.writeFileSync(path.join(dir, 'Web.template.json'), JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic' } } }));
  return dir;
}

beforeEach(() => {
  for (const name of Object.keys(process.env).filter((n) => n.startsWith('AWS_'))) delete process.env[name];
  const none = path.join(tempDir('plan-no-aws-'), 'none');
  process.env.AWS_SHARED_CREDENTIALS_FILE = none;
  process.env.AWS_CONFIG_FILE = none;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
});
afterAll(() => {
  process.env = SAVED;
  cleanUp();
});

async function run(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(['plan', ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

test('no credentials: exit 1, naming what is missing and how to plan offline instead', async () => {
  process.env.AWS_REGION = 'eu-west-1';

  const result = await run(assembly());

  expect(result).toEqual({
    code: EXIT.ERROR,
    stdout: '',
    stderr: expect.stringMatching(/^cdk-immutable-deploys plan: No AWS credentials \(Could not load credentials from any providers\)\. Set AWS_PROFILE, .* or pass BEFORE to plan offline/),
  });
});

test('no region for an environment-agnostic stack: exit 1, naming AWS_REGION', async () => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

  const result = await run(assembly());

  expect(result.code).toEqual(EXIT.ERROR);
  expect(result.stderr).toMatch(/No AWS region for stack Web, which is environment-agnostic: set AWS_REGION/);
});
