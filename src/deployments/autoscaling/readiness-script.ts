/**
 * The end of an instance's user data: wait for the instance's own health check, then report.
 *
 * Internal: not exported from the package. The construct renders it into the launch template.
 *
 * An instance reports in two ways:
 * - to CloudFormation, with `SignalResource` on the group's logical id (SUCCESS or FAILURE), which
 *   is what a replacing update, a rolling update with `WaitOnResourceSignals` and the creation
 *   policy wait for;
 * - to Auto Scaling, with `SetInstanceHealth Unhealthy` when the check fails, so that the group
 *   (and an instance refresh, which does not read CloudFormation signals) replaces it. The call does
 *   not respect the health-check grace period (`ShouldRespectGracePeriod=false`): by default Auto
 *   Scaling ignores a report made within the grace period, and a grace period longer than the probe
 *   (`attachToApplicationTargetGroup({ gracePeriod })`) would let a failing instance count as healthy.
 *
 * Linux: the AWS CLI when the image has it (Amazon Linux 2 and 2023 do), else a SigV4-signed
 * `curl` request built with `openssl` (Ubuntu and Debian images have both, and no AWS CLI). An
 * image with neither cannot report; the bake must add one of them. Windows: the AWS Tools for
 * PowerShell, which the AWS Windows AMIs include.
 */

/** Everything the script needs to know about where to report. */
export interface ReadinessTarget {
  /** The probe: a bash command (Linux) or PowerShell expression (Windows). */
  readonly probe: string;
  /** How long to keep probing, in seconds. */
  readonly timeoutSeconds: number;
  readonly region: string;
  readonly urlSuffix: string;
  readonly stackName: string;
  /** The Auto Scaling group's logical id. */
  readonly logicalId: string;
}

/**
 * bash functions that sign an AWS Query API request with Signature Version 4 using only
 * `openssl`, and send it with `curl`. `cid_sigv4_authorization` is a pure function of its
 * arguments, tested against an independent implementation.
 */
export const SIGV4_BASH = [
  'cid_sha256() { printf \'%s\' "$1" | openssl dgst -sha256 | sed \'s/^.*= //\'; }',
  'cid_hmac() { printf \'%s\' "$2" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" | sed \'s/^.*= //\'; }',
  '# cid_sigv4_authorization ACCESS_KEY SECRET_KEY TOKEN REGION SERVICE HOST AMZDATE BODY',
  'cid_sigv4_authorization() {',
  '  local day="${7%%T*}" scope canonical sts k',
  '  scope="$day/$4/$5/aws4_request"',
  '  canonical="$(printf \'POST\\n/\\n\\ncontent-type:application/x-www-form-urlencoded\\nhost:%s\\nx-amz-date:%s\\nx-amz-security-token:%s\\n\\ncontent-type;host;x-amz-date;x-amz-security-token\\n%s\' "$6" "$7" "$3" "$(cid_sha256 "$8")")"',
  '  sts="$(printf \'AWS4-HMAC-SHA256\\n%s\\n%s\\n%s\' "$7" "$scope" "$(cid_sha256 "$canonical")")"',
  '  k="$(printf \'%s\' "$day" | openssl dgst -sha256 -mac HMAC -macopt "key:AWS4$2" | sed \'s/^.*= //\')"',
  '  k="$(cid_hmac "$k" "$4")"; k="$(cid_hmac "$k" "$5")"; k="$(cid_hmac "$k" aws4_request)"',
  '  printf \'AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=%s\' "$1" "$scope" "$(cid_hmac "$k" "$sts")"',
  '}',
].join('\n');

/** The Linux (bash) readiness block. */
export function linuxReadinessScript(t: ReadinessTarget): string {
  return [
    '# --- cdk-immutable-deploys: wait for this instance\'s health check, then report ---',
    `CID_REGION='${t.region}'`,
    `CID_URL_SUFFIX='${t.urlSuffix}'`,
    `CID_STACK='${t.stackName}'`,
    `CID_RESOURCE='${t.logicalId}'`,
    'cid_log() { echo "cdk-immutable-deploys: $*" | tee /dev/console >&2 || true; }',
    'cid_imds() {',
    '  local token',
    '  token="$(curl -sf -m 5 -X PUT -H \'X-aws-ec2-metadata-token-ttl-seconds: 300\' http://169.254.169.254/latest/api/token)" || return 1',
    '  curl -sf -m 5 -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/$1"',
    '}',
    SIGV4_BASH,
    '# cid_query SERVICE BODY: an AWS Query API call signed with the instance profile\'s credentials',
    'cid_query() {',
    '  local role creds ak sk tok amzdate host',
    '  role="$(cid_imds meta-data/iam/security-credentials/)" || return 1',
    '  creds="$(cid_imds "meta-data/iam/security-credentials/$role")" || return 1',
    '  ak="$(printf \'%s\' "$creds" | sed -n \'s/.*"AccessKeyId" *: *"\\([^"]*\\)".*/\\1/p\')"',
    '  sk="$(printf \'%s\' "$creds" | sed -n \'s/.*"SecretAccessKey" *: *"\\([^"]*\\)".*/\\1/p\')"',
    '  tok="$(printf \'%s\' "$creds" | sed -n \'s/.*"Token" *: *"\\([^"]*\\)".*/\\1/p\')"',
    '  amzdate="$(date -u +%Y%m%dT%H%M%SZ)"',
    '  host="$1.$CID_REGION.$CID_URL_SUFFIX"',
    '  curl -sS -f -m 20 --retry 3 -X POST "https://$host/" \\',
    '    -H \'Content-Type: application/x-www-form-urlencoded\' -H "X-Amz-Date: $amzdate" -H "X-Amz-Security-Token: $tok" \\',
    '    -H "Authorization: $(cid_sigv4_authorization "$ak" "$sk" "$tok" "$CID_REGION" "$1" "$host" "$amzdate" "$2")" \\',
    '    --data "$2" >/dev/null',
    '}',
    'cid_report() {',
    '  local status="$1" iid',
    '  iid="$(cid_imds meta-data/instance-id)"',
    '  if command -v aws >/dev/null 2>&1; then',
    '    aws cloudformation signal-resource --region "$CID_REGION" --stack-name "$CID_STACK" --logical-resource-id "$CID_RESOURCE" --unique-id "$iid" --status "$status" \\',
    '      || cid_log "could not signal $status to CloudFormation (the stack may not be waiting for this instance)"',
    '    if [ "$status" = FAILURE ]; then aws autoscaling set-instance-health --region "$CID_REGION" --instance-id "$iid" --health-status Unhealthy --no-should-respect-grace-period || cid_log "could not mark the instance Unhealthy"; fi',
    '  elif command -v curl >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1; then',
    '    cid_query cloudformation "Action=SignalResource&Version=2010-05-15&StackName=$CID_STACK&LogicalResourceId=$CID_RESOURCE&UniqueId=$iid&Status=$status" \\',
    '      || cid_log "could not signal $status to CloudFormation (the stack may not be waiting for this instance)"',
    '    if [ "$status" = FAILURE ]; then cid_query autoscaling "Action=SetInstanceHealth&Version=2011-01-01&InstanceId=$iid&HealthStatus=Unhealthy&ShouldRespectGracePeriod=false" || cid_log "could not mark the instance Unhealthy"; fi',
    '  else',
    '    cid_log "cannot report $status: this image has neither the AWS CLI nor curl and openssl; add one to the bake"',
    '    return 1',
    '  fi',
    '}',
    `cid_deadline=$(( $(date +%s) + ${t.timeoutSeconds} ))`,
    'cid_status=FAILURE',
    'while :; do',
    `  if ( ${t.probe} ) >/dev/null 2>&1; then cid_status=SUCCESS; break; fi`,
    '  [ "$(date +%s)" -ge "$cid_deadline" ] && break',
    '  sleep 5',
    'done',
    'cid_log "health check result: $cid_status"',
    'cid_report "$cid_status"',
  ].join('\n');
}

/** The Windows (PowerShell) readiness block. */
export function windowsReadinessScript(t: ReadinessTarget): string {
  return [
    '# --- cdk-immutable-deploys: wait for this instance\'s health check, then report ---',
    `$cidDeadline = (Get-Date).AddSeconds(${t.timeoutSeconds})`,
    '$cidStatus = \'FAILURE\'',
    'while ($true) {',
    `  $cidOk = try { [bool](& { ${t.probe} }) } catch { $false }`,
    '  if ($cidOk) { $cidStatus = \'SUCCESS\'; break }',
    '  if ((Get-Date) -ge $cidDeadline) { break }',
    '  Start-Sleep -Seconds 5',
    '}',
    '$cidToken = Invoke-RestMethod -Method Put -Uri http://169.254.169.254/latest/api/token -Headers @{ \'X-aws-ec2-metadata-token-ttl-seconds\' = \'300\' }',
    '$cidInstance = Invoke-RestMethod -Uri http://169.254.169.254/latest/meta-data/instance-id -Headers @{ \'X-aws-ec2-metadata-token\' = $cidToken }',
    'Write-Host "cdk-immutable-deploys: health check result: $cidStatus"',
    `try { Send-CFNResourceSignal -Region '${t.region}' -StackName '${t.stackName}' -LogicalResourceId '${t.logicalId}' -UniqueId $cidInstance -Status $cidStatus } catch { Write-Host "cdk-immutable-deploys: could not signal $cidStatus to CloudFormation: $_" }`,
    `if ($cidStatus -eq 'FAILURE') { try { Set-ASInstanceHealth -Region '${t.region}' -InstanceId $cidInstance -HealthStatus Unhealthy -ShouldRespectGracePeriod $false } catch { Write-Host "cdk-immutable-deploys: could not mark the instance Unhealthy: $_" } }`,
  ].join('\n');
}
