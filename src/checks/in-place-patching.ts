/**
 * Rule `in-place-patching`: Systems Manager changes a fleet in place (patch baselines, commands and
 * configuration management by association or maintenance window).
 */
import { CfnResource } from 'aws-cdk-lib';
import { flatten, nonCompliant, properties, Rule, TOKEN, unreadable, Verdict } from './rule';

/** AWS-owned SSM documents that change what an instance runs. */
const CHANGING_DOCUMENTS = [
  'AWS-RunPatchBaseline', 'AWS-RunPatchBaselineAssociation', 'AWS-RunPatchBaselineWithHooks', 'AWS-ApplyPatchBaseline',
  'AWS-InstallWindowsUpdates', 'AWS-InstallMissingWindowsUpdates', 'AWS-InstallApplication', 'AWS-ConfigureAWSPackage', 'AWS-UpdateSSMAgent',
  'AWS-RunShellScript', 'AWS-RunPowerShellScript', 'AWS-RunRemoteScript', 'AWS-ApplyAnsiblePlaybooks', 'AWS-RunAnsiblePlaybook',
  'AWS-ApplyChefRecipes', 'AWS-ApplyDSCMofs', 'AWS-InstallPowerShellModule', 'AWS-PatchInstanceWithRollback', 'AWS-PatchAsgInstance',
  'AWS-UpdateLinuxAmi', 'AWS-UpdateWindowsAmi',
];

const WHAT_TO_DO = 'Patch by baking a new AMI (AmiBake) and replacing the fleet; keep Systems Manager to read-only documents (inventory, compliance scans).';

export const IN_PLACE_PATCHING: Rule = {
  id: 'in-place-patching',
  protects: 'Running instances are replaced, never patched: an SSM association or maintenance-window task that runs a patch baseline, a shell script or a configuration-management document on a fleet makes its instances differ from their AMI and from each other.',
  check(resource: CfnResource): Verdict[] {
    const props = properties(resource);
    if (resource.cfnResourceType === 'AWS::SSM::Association') {
      return verdictOn(props.Name, 'The association');
    }
    if (resource.cfnResourceType === 'AWS::SSM::MaintenanceWindowTask') {
      if (props.TaskType === 'RUN_COMMAND' || props.TaskType === 'AUTOMATION') return verdictOn(props.TaskArn, 'The maintenance-window task');
      if (typeof props.TaskType !== 'string') return [unreadable(`The maintenance-window task's type is a token, unreadable at synth time. ${WHAT_TO_DO}`)];
    }
    return [];
  },
};

function verdictOn(document: unknown, who: string): Verdict[] {
  const name = flatten(document);
  if (name.includes(TOKEN)) return [unreadable(`${who}'s document is a token, unreadable at synth time: check that it does not change instances in place. ${WHAT_TO_DO}`)];
  const plain = name.replace(/^arn:[^:]+:ssm:[^:]*:[^:]*:document\//, '');
  if (CHANGING_DOCUMENTS.includes(plain)) {
    return [nonCompliant(`${who} runs ${plain} on instances that are already running: it changes them in place. ${WHAT_TO_DO}`)];
  }
  return [];
}
