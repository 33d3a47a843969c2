import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { linuxReadinessScript, SIGV4_BASH, windowsReadinessScript } from '../../../src/deployments/autoscaling/readiness-script';

/** An independent Signature Version 4 implementation (Node's crypto), the reference for the bash one. */
function referenceAuthorization(
  ak: string, sk: string, token: string, region: string, service: string, host: string, amzDate: string, body: string,
): string {
  const sha = (s: string) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');
  const hmac = (key: Buffer | string, s: string) => crypto.createHmac('sha256', key).update(s, 'utf8').digest();
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/${service}/aws4_request`;
  const signedHeaders = 'content-type;host;x-amz-date;x-amz-security-token';
  const canonical = ['POST', '/', '', 'content-type:application/x-www-form-urlencoded', `host:${host}`, `x-amz-date:${amzDate}`, `x-amz-security-token:${token}`, '', signedHeaders, sha(body)].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${sk}`, day), region), service), 'aws4_request');
  return `AWS4-HMAC-SHA256 Credential=${ak}/${scope}, SignedHeaders=${signedHeaders}, Signature=${crypto.createHmac('sha256', key).update(stringToSign).digest('hex')}`;
}

const CREDS = {
  ak: 'ASIAEXAMPLEEXAMPLE12',
  sk: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  token: 'IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+token/with+slashes==',
};

/** A sandbox PATH: stub commands first, then the system's, without any real `aws`. */
function sandbox(stubs: Record<string, string>, without: string[] = []): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readiness-'));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  for (const [name, body] of Object.entries(stubs)) {
    fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  }
  // Link the few system tools the script uses, so that no `aws` on this machine leaks in.
  for (const tool of ['bash', 'sed', 'date', 'openssl', 'sleep', 'tee', 'cat', 'timeout', 'true', 'false', 'printf']) {
    const found = ['/usr/bin', '/bin'].map(d => path.join(d, tool)).find(p => fs.existsSync(p));
    if (found && !stubs[tool] && !without.includes(tool)) fs.symlinkSync(found, path.join(bin, tool));
  }
  return { dir, env: { PATH: bin, LOG: path.join(dir, 'calls.log') } };
}

/** A curl stub that plays IMDSv2 and records every AWS API request with its headers. */
const CURL_STUB = [
  'args="$*"',
  'case "$args" in',
  '  *latest/api/token*) printf token123 ;;',
  '  *security-credentials/) printf my-role ;;',
  `  *security-credentials/my-role) printf '{\\n  "Code" : "Success",\\n  "AccessKeyId" : "${CREDS.ak}",\\n  "SecretAccessKey" : "${CREDS.sk}",\\n  "Token" : "${CREDS.token}"\\n}' ;;`,
  '  *meta-data/instance-id*) printf i-0abc123def4567890 ;;',
  '  *https://*) for a in "$@"; do printf "%s\\n" "$a"; done >> "$LOG"; echo ---- >> "$LOG" ;;',
  '  *) exit 7 ;;',
  'esac',
].join('\n');

function run(script: string, env: NodeJS.ProcessEnv): void {
  execFileSync(env.PATH + '/bash', ['-c', script], { env, stdio: ['ignore', 'ignore', 'ignore'], timeout: 30_000 });
}

const target = (probe: string, timeoutSeconds: number) => linuxReadinessScript({
  probe,
  timeoutSeconds,
  region: 'eu-west-1',
  urlSuffix: 'amazonaws.com',
  stackName: 'Web-Prod',
  logicalId: 'FleetASG9541CF7F',
});

describe('the Linux readiness script', () => {
  test('signs a request exactly as Signature Version 4 does', () => {
    // GIVEN
    const body = 'Action=SignalResource&Version=2010-05-15&StackName=Web-Prod&LogicalResourceId=FleetASG9541CF7F&UniqueId=i-0abc&Status=SUCCESS';
    const args = [CREDS.ak, CREDS.sk, CREDS.token, 'eu-west-1', 'cloudformation', 'cloudformation.eu-west-1.amazonaws.com', '20260802T101112Z', body];

    // WHEN
    const out = execFileSync('bash', ['-c', `${SIGV4_BASH}\ncid_sigv4_authorization "$@"`, 'sigv4', ...args], { encoding: 'utf8' });

    // THEN
    expect(out).toEqual(referenceAuthorization(...(args as [string, string, string, string, string, string, string, string])));
  });

  test('is valid bash', () => {
    expect(() => execFileSync('bash', ['-n', '-c', target('true', 60)])).not.toThrow();
  });

  test('with the AWS CLI, signals SUCCESS once the health check passes', () => {
    // GIVEN
    const { env } = sandbox({ curl: CURL_STUB, aws: 'echo "aws $*" >> "$LOG"' });

    // WHEN
    run(target('true', 60), env);

    // THEN
    expect(fs.readFileSync(env.LOG!, 'utf8').trim().split('\n')).toEqual([
      'aws cloudformation signal-resource --region eu-west-1 --stack-name Web-Prod --logical-resource-id FleetASG9541CF7F --unique-id i-0abc123def4567890 --status SUCCESS',
    ]);
  });

  test('with the AWS CLI, a check that never passes signals FAILURE and marks the instance Unhealthy, also within the grace period (SetInstanceHealth respects it by default)', () => {
    // GIVEN
    const { env } = sandbox({ curl: CURL_STUB, aws: 'echo "aws $*" >> "$LOG"' });

    // WHEN
    run(target('false', 1), env);

    // THEN
    expect(fs.readFileSync(env.LOG!, 'utf8').trim().split('\n')).toEqual([
      'aws cloudformation signal-resource --region eu-west-1 --stack-name Web-Prod --logical-resource-id FleetASG9541CF7F --unique-id i-0abc123def4567890 --status FAILURE',
      'aws autoscaling set-instance-health --region eu-west-1 --instance-id i-0abc123def4567890 --health-status Unhealthy --no-should-respect-grace-period',
    ]);
  });

  test('keeps probing until the check passes', () => {
    // GIVEN: a check that passes on its second try
    const { dir, env } = sandbox({ curl: CURL_STUB, aws: 'echo "aws $*" >> "$LOG"' });
    const marker = path.join(dir, 'tried');

    // WHEN
    run(target(`[ -e '${marker}' ] || { : > '${marker}'; false; }`, 30), env);

    // THEN
    expect(fs.readFileSync(env.LOG!, 'utf8')).toContain('--status SUCCESS');
  });

  test('without the AWS CLI (Ubuntu), sends correctly signed Query API requests with curl and openssl', () => {
    // GIVEN
    const { env } = sandbox({ curl: CURL_STUB });

    // WHEN
    run(target('false', 1), env);

    // THEN: two requests, each signed for its service with the instance profile's credentials
    const requests = fs.readFileSync(env.LOG!, 'utf8').split('----\n').filter(r => r.trim() !== '').map(r => r.trim().split('\n'));
    expect(requests).toHaveLength(2);
    const expectations = [
      ['cloudformation', 'Action=SignalResource&Version=2010-05-15&StackName=Web-Prod&LogicalResourceId=FleetASG9541CF7F&UniqueId=i-0abc123def4567890&Status=FAILURE'],
      ['autoscaling', 'Action=SetInstanceHealth&Version=2011-01-01&InstanceId=i-0abc123def4567890&HealthStatus=Unhealthy&ShouldRespectGracePeriod=false'],
    ];
    requests.forEach((args, i) => {
      const [service, body] = expectations[i];
      const host = `${service}.eu-west-1.amazonaws.com`;
      expect(args).toContain(`https://${host}/`);
      expect(args[args.indexOf('--data') + 1]).toEqual(body);
      const amzDate = args.find(a => a.startsWith('X-Amz-Date: '))!.slice('X-Amz-Date: '.length);
      expect(amzDate).toMatch(/^\d{8}T\d{6}Z$/);
      expect(args).toContain(`X-Amz-Security-Token: ${CREDS.token}`);
      expect(args).toContain(`Authorization: ${referenceAuthorization(CREDS.ak, CREDS.sk, CREDS.token, 'eu-west-1', service, host, amzDate, body)}`);
    });
  });

  test('with neither the AWS CLI nor openssl, fails loudly instead of pretending', () => {
    // GIVEN: curl only
    const { env } = sandbox({ curl: CURL_STUB }, ['openssl']);

    // WHEN / THEN: the user data exits non-zero (cloud-init reports it)
    expect(() => run(target('true', 60), env)).toThrow();
  });
});

describe('the Windows readiness script (issue 17)', () => {
  // PowerShell is not on the test machines: the script's lines are checked in the order they run.
  const lines = windowsReadinessScript({
    probe: 'Test-Path C:\\ready', timeoutSeconds: 600, region: 'eu-west-1', urlSuffix: 'amazonaws.com', stackName: 'S', logicalId: 'FleetASG',
  }).split('\n');
  const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));

  test('starts as a failure: only a probe that passes before the deadline makes it a success', () => {
    const failure = at(/^\$cidStatus = 'FAILURE'$/);
    const loop = at(/^while \(\$true\) \{$/);
    expect(failure).toBeGreaterThanOrEqual(0);
    expect(failure).toBeLessThan(loop);
    // the one assignment of SUCCESS is the probe's pass, inside the loop
    const successes = lines.filter((l) => /\$cidStatus = 'SUCCESS'/.test(l));
    expect(successes).toEqual(["  if ($cidOk) { $cidStatus = 'SUCCESS'; break }"]);
    expect(at(/\$cidStatus = 'SUCCESS'/)).toBeGreaterThan(loop);
  });

  test('a probe that throws counts as not ready, and the deadline is the timeout', () => {
    expect(lines).toContain('  $cidOk = try { [bool](& { Test-Path C:\\ready }) } catch { $false }');
    expect(lines).toContain('$cidDeadline = (Get-Date).AddSeconds(600)');
    expect(at(/-ge \$cidDeadline\) \{ break \}/)).toBeGreaterThan(at(/^while/));
  });

  test('reports the status it ended with, and marks the instance unhealthy only on failure', () => {
    expect(at(/Send-CFNResourceSignal .*-StackName 'S' -LogicalResourceId 'FleetASG' .*-Status \$cidStatus/)).toBeGreaterThan(at(/^\}$/));
    expect(lines.filter((l) => l.includes('Set-ASInstanceHealth'))).toEqual([
      expect.stringMatching(/^if \(\$cidStatus -eq 'FAILURE'\) \{ try \{ Set-ASInstanceHealth -Region 'eu-west-1' .*-HealthStatus Unhealthy -ShouldRespectGracePeriod \$false \}/),
    ]);
    // IMDSv2: the instance id is read with a session token
    expect(at(/Invoke-RestMethod -Method Put -Uri http:\/\/169\.254\.169\.254\/latest\/api\/token/)).toBeLessThan(at(/meta-data\/instance-id -Headers @\{ 'X-aws-ec2-metadata-token' = \$cidToken \}/));
  });
});
