/**
 * Rule `mutable-user-data`: user data that changes the instance at boot.
 */
import { CfnResource } from 'aws-cdk-lib';
import { flatten, isIntrinsic, nonCompliant, properties, Rule, TOKEN, unreadable, Verdict } from './rule';

/** A command that changes what an instance runs, when user data runs it at boot. */
interface BootChange {
  readonly pattern: RegExp;
  readonly what: string;
}

const BOOT_CHANGES: BootChange[] = [
  { pattern: /\b(yum|dnf|microdnf|tdnf)\s+(-\S+\s+)*(update|upgrade|install|distro-sync|groupinstall|reinstall)\b/, what: 'installs or upgrades packages' },
  { pattern: /\b(apt-get|apt|aptitude)\s+(-\S+\s+)*(upgrade|dist-upgrade|full-upgrade|install)\b/, what: 'installs or upgrades packages' },
  { pattern: /\b(zypper)\s+(-\S+\s+)*(update|up|upgrade|install|in|patch|dist-upgrade|dup)\b/, what: 'installs or upgrades packages' },
  { pattern: /\bapk\s+(-\S+\s+)*(add|upgrade)\b/, what: 'installs or upgrades packages' },
  { pattern: /\b(amazon-linux-extras|snap)\s+(-\S+\s+)*(install|refresh)\b/, what: 'installs or upgrades packages' },
  { pattern: /\b(pip3?|pipx|gem|npm|yarn|pnpm)\s+(-\S+\s+)*(install|add|update|upgrade)\b/, what: 'installs language packages' },
  { pattern: /\b(choco|winget)\s+(install|upgrade)\b|\bInstall-(Package|Module|WindowsFeature|WindowsUpdate)\b|\bGet-WindowsUpdate\b/i, what: 'installs or upgrades packages' },
  { pattern: /\b(curl|wget)\b[^|\n]*\|\s*(sudo\s+(-\S+\s+)*)?(env\s+\S+\s+)*(ba|z|k|da|a)?sh\b/, what: 'runs a script downloaded at boot (`curl ... | sh`)' },
  { pattern: /\b(ba|z)?sh\s+<\(\s*(curl|wget)\b/, what: 'runs a script downloaded at boot' },
  { pattern: /\b(curl|wget)\b[^|\n]*\|\s*(sudo\s+)?(python3?|perl|ruby|node)\b/, what: 'runs a script downloaded at boot' },
  { pattern: /\b(iwr|Invoke-WebRequest|DownloadString)\b[^\n]*\|\s*(iex|Invoke-Expression)\b|\b(iex|Invoke-Expression)\b[^\n]*\b(DownloadString|iwr|Invoke-WebRequest)\b/i, what: 'runs a script downloaded at boot' },
  { pattern: /\bgit\s+(-\S+\s+)*(pull|clone|fetch|checkout|reset)\b/, what: 'fetches code from a repository at boot (`git pull`, `git clone`)' },
  { pattern: /\b(ansible-pull|ansible-playbook|chef-client|chef-solo|salt-call|cfn-hup)\b|\bpuppet\s+(agent|apply)\b/, what: 'runs configuration management against the live instance' },
];

const WHAT_TO_DO = 'Bake the change into the AMI (AmiBake with BakeStep.shell()), and keep user data to starting what the image holds.';

export const MUTABLE_USER_DATA: Rule = {
  id: 'mutable-user-data',
  protects: 'Every instance of a fleet runs what its AMI holds: user data that installs or upgrades packages, runs `curl ... | sh`, pulls code or runs configuration management makes each boot a new, untested build.',
  check(resource: CfnResource): Verdict[] {
    const props = properties(resource);
    const userData = resource.cfnResourceType === 'AWS::EC2::LaunchTemplate'
      ? props.LaunchTemplateData?.UserData
      : ['AWS::EC2::Instance', 'AWS::AutoScaling::LaunchConfiguration'].includes(resource.cfnResourceType) ? props.UserData : undefined;
    if (userData === undefined) return [];
    const script = scriptOf(userData);
    if (script === undefined || script.replace(new RegExp(TOKEN, 'g'), '').trim() === '') {
      return [unreadable(`The user data is a token, unreadable at synth time: check that it does not change the instance at boot. ${WHAT_TO_DO}`)];
    }
    const found = new Map<string, string>();
    for (const line of script.split(/\r?\n/)) {
      const command = line.replace(/(^|\s)#.*$/, '');
      for (const change of BOOT_CHANGES) {
        const m = command.match(change.pattern);
        if (m && !found.has(change.what)) found.set(change.what, m[0].trim());
      }
    }
    return [...found].map(([what, command]) => nonCompliant(`The user data ${what} ('${command}'): instances launched on different days run different software. ${WHAT_TO_DO}`));
  },
};

/** The user data script: inside `Fn::Base64`, or a literal base64 string decoded; undefined when a token. */
function scriptOf(userData: unknown): string | undefined {
  if (isIntrinsic(userData) && (userData as any)['Fn::Base64'] !== undefined) return flatten((userData as any)['Fn::Base64']);
  if (typeof userData === 'string') {
    const decoded = Buffer.from(userData, 'base64').toString('utf8');
    return Buffer.from(decoded, 'utf8').toString('base64').replace(/=+$/, '') === userData.replace(/=+$/, '') ? decoded : userData;
  }
  return undefined;
}
