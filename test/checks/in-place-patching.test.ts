import { CfnParameter } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { checkedStack, findingsOf, summary } from './fixtures';

function windowTask(stack: any, taskType: string, taskArn: string) {
  new ssm.CfnMaintenanceWindowTask(stack, 'Task', {
    windowId: 'mw-0123456789abcdef0',
    taskType,
    taskArn,
    priority: 1,
    maxConcurrency: '1',
    maxErrors: '1',
    targets: [{ key: 'WindowTargetIds', values: ['target'] }],
  });
  return stack;
}

describe('in-place-patching', () => {
  test('compliant: a read-only association, a maintenance window that runs a function', () => {
    const stack = checkedStack();
    new ssm.CfnAssociation(stack, 'Inventory', { name: 'AWS-GatherSoftwareInventory', targets: [{ key: 'InstanceIds', values: ['*'] }] });
    windowTask(stack, 'LAMBDA', 'arn:aws:lambda:us-east-1:111111111111:function:report');
    expect(summary(stack)).toEqual([]);
  });

  test('non-compliant: an association that runs the patch baseline', () => {
    const stack = checkedStack();
    new ssm.CfnAssociation(stack, 'Patch', { name: 'AWS-RunPatchBaseline', parameters: { Operation: ['Install'] } });
    const findings = findingsOf(stack);
    expect(findings.map((f) => `${f.rule} ${f.level} ${f.path}`)).toEqual(['in-place-patching error /Stack/Patch']);
    expect(findings[0].message).toMatch(/runs AWS-RunPatchBaseline on instances that are already running.*Patch by baking a new AMI/);
  });

  test('non-compliant: a maintenance-window task that runs a shell script, by name or ARN', () => {
    expect(summary(windowTask(checkedStack(), 'RUN_COMMAND', 'AWS-RunShellScript'))).toEqual(['in-place-patching error /Stack/Task']);
    expect(summary(windowTask(checkedStack(), 'AUTOMATION', 'arn:aws:ssm:us-east-1::document/AWS-PatchInstanceWithRollback'))).toEqual(['in-place-patching error /Stack/Task']);
  });

  test('unreadable: a document name from a parameter gives a warning', () => {
    const stack = checkedStack();
    new ssm.CfnAssociation(stack, 'Run', { name: new CfnParameter(stack, 'Doc', { type: 'String' }).valueAsString });
    expect(summary(stack)).toEqual(['in-place-patching warning /Stack/Run']);
  });
});
