/**
 * A bound, not an alternative: the resources of a template already synthesized (BENCH_REPLAY) as L1
 * `CfnResource`s with literal properties. No construct logic and no tokens are left, only
 * aws-cdk-lib's own cost of carrying that template through synthesis (logical ids, references,
 * the template, tree.json and metadata written).
 */
import * as fs from 'fs';
import { CfnResource, type Stack } from 'aws-cdk-lib';
import { REPLAY_ENV } from '../common';

export function build(stack: Stack): void {
  const file = process.env[REPLAY_ENV];
  if (!file) throw new Error(`${REPLAY_ENV} is not set: the bounds section of \`npm run bench\` sets it to a template it synthesized.`);
  const template = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const [id, r] of Object.entries<any>(template.Resources)) {
    if (r.Type === 'AWS::CDK::Metadata') continue;
    const resource = new CfnResource(stack, id, { type: r.Type, properties: r.Properties });
    resource.overrideLogicalId(id);
    if (r.DependsOn) resource.addOverride('DependsOn', r.DependsOn);
    if (r.Metadata) resource.cfnOptions.metadata = r.Metadata;
  }
}
