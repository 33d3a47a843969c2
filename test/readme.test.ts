import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import * as ts from 'typescript';
import { defaultVpcContext } from './default-vpc';
import * as library from '../src';

/**
 * The README's whole apps (its `ts` blocks that create an `App`), run as a user runs them: in a new
 * directory holding the README's own Dockerfile, against a default VPC shaped like a real one (public
 * subnets only, as `ec2.Vpc.fromLookup(..., { isDefault: true })` answers for a default VPC).
 * jsii-rosetta compiles every block (`npx projen rosetta:extract`); this synthesizes them.
 */
const README = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');

function blocks(language: string): string[] {
  const found: string[] = [];
  const fence = new RegExp('^```' + language + '[^\\n]*\\n([\\s\\S]*?)^```', 'gm');
  for (let m = fence.exec(README); m; m = fence.exec(README)) found.push(m[1]);
  return found;
}

const apps = blocks('ts').filter((b) => /new App\(\)/.test(b));
const [dockerfile] = blocks('dockerfile');

interface Run {
  readonly apps: cdk.App[];
  readonly error?: Error;
}

/** Runs a README block as a program, in `cwd`, with this package for 'cdk-immutable-deploys'. */
function run(code: string, cwd: string, context: Record<string, unknown>): Run {
  const created: cdk.App[] = [];
  class RecordedApp extends cdk.App {
    constructor(props: cdk.AppProps = {}) {
      super({ ...props, outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'readme-app-')), context: { ...context, ...props.context } });
      created.push(this);
    }
  }
  const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020 } }).outputText;
  const load = (name: string): unknown => {
    if (name === 'cdk-immutable-deploys') return library;
    if (name === 'aws-cdk-lib') return { ...cdk, App: RecordedApp };
    // The modules a README block imports, by the names it gives them (aws-cdk-lib/aws-ec2, ...).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name);
  };
  const before = process.cwd();
  process.chdir(cwd);
  try {
    new Function('require', 'exports', js)(load, {});
    return { apps: created };
  } catch (e) {
    return { apps: created, error: e as Error };
  } finally {
    process.chdir(before);
  }
}

/** Runs a block once to learn the lookups it makes, then again with a default VPC's answers. */
function synthesize(code: string) {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-cwd-'));
  for (const dir of ['web', 'app']) {
    fs.mkdirSync(path.join(cwd, dir));
    fs.writeFileSync(path.join(cwd, dir, 'Dockerfile'), dockerfile);
    fs.writeFileSync(path.join(cwd, dir, 'index.html'), '<h1>Hello</h1>\n');
  }
  const first = run(code, cwd, {});
  if (first.error) throw first.error;
  const context: Record<string, unknown> = {};
  for (const app of first.apps) {
    for (const missing of app.synth().manifest.missing ?? []) {
      const props = missing.props as any;
      const azs = [`${props.region}a`, `${props.region}b`, `${props.region}c`];
      if (missing.provider === 'vpc-provider') context[missing.key] = defaultVpcContext(azs);
      else if (missing.provider === 'availability-zones') context[missing.key] = azs;
      else throw new Error(`the README block needs a lookup this test does not answer: ${missing.key}`);
    }
  }
  const second = run(code, cwd, context);
  if (second.error) throw second.error;
  return second.apps.map((app) => app.synth());
}

function errorsOf(assembly: cdk.cx_api.CloudAssembly): string[] {
  const all = [assembly, ...assembly.nestedAssemblies.map((n) => n.nestedAssembly)];
  return all.flatMap((a) => a.stacks.flatMap((s) => s.messages.filter((m) => m.level === 'error').map((m) => `${m.id}: ${m.entry.data}`)));
}

function templatesOf(assembly: cdk.cx_api.CloudAssembly): Record<string, any> {
  return Object.fromEntries(assembly.stacks.map((s) => [s.stackName, s.template]));
}

function resources(template: any, type: string): any[] {
  return Object.values<any>(template.Resources ?? {}).filter((r) => r.Type === type);
}

describe('the README', () => {
  test('holds the quick start, the promotion and the replication apps, and the quick start\'s Dockerfile', () => {
    expect(apps.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toContain('VOLUME ["/tmp"]');
  });

  test.each(apps.map((code) => [code.split('\n').find((l) => /new Stack\(app, '/.test(l))?.trim() ?? code.slice(0, 60), code]))(
    'synthesizes as written, with no error, against a default VPC of public subnets only: %s',
    (_first, code) => {
      // GIVEN the README's block, a directory with its Dockerfile, a default VPC / WHEN
      const assemblies = synthesize(code);

      // THEN
      expect(assemblies.length).toBe(1);
      expect(errorsOf(assemblies[0])).toEqual([]);
      expect(assemblies[0].manifest.missing ?? []).toEqual([]);
      // Every service and fleet placed in a VPC lands in subnets that reach AWS: public ones with a public IP.
      for (const template of Object.values(templatesOf(assemblies[0]))) {
        for (const service of resources(template, 'AWS::ECS::Service')) {
          expect(service.Properties.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe('ENABLED');
        }
      }
    },
  );

  test('the quick start is a reachable web service: an ALB listener forwards to the service\'s container port, no NAT gateway', () => {
    // GIVEN / WHEN
    const quickStart = apps.find((code) => /new Stack\(app, 'Web'\)/.test(code))!;
    const [assembly] = synthesize(quickStart);
    const template = templatesOf(assembly).Web;

    // THEN
    expect(resources(template, 'AWS::EC2::NatGateway')).toEqual([]);
    const [listener] = resources(template, 'AWS::ElasticLoadBalancingV2::Listener');
    expect(listener.Properties.Port).toBe(80);
    expect(listener.Properties.DefaultActions[0].Type).toBe('forward');
    const [service] = resources(template, 'AWS::ECS::Service');
    expect(service.Properties.LoadBalancers[0].ContainerPort).toBe(8080);
    const warnings = assembly.stacks.flatMap((s) => s.messages.filter((m) => m.level === 'warning').map((m) => String(m.entry.data)));
    expect(warnings.filter((w) => w.includes('cdk-immutable-deploys:'))).toEqual([]);
  });

  test('the promotion app deploys the bake stack before the stack that imports its AMI by fingerprint', () => {
    const promotion = apps.find((code) => /AmiArtifact\.fromFingerprint/.test(code))!;
    const [assembly] = synthesize(promotion);
    const production = assembly.getStackByName('Production');
    expect(production.dependencies.map((d) => d.id)).toContain('Bake');
  });
});
