/**
 * Recognises secrets written into plain environment variables. Not exported from the package.
 */

/** Names that usually hold a secret: a warning, because such a name may also hold a secret's *name*. */
const SECRET_WORDS = /(^|_)(PASSWORD|PASSWD|PASS|PASSPHRASE|PWD|SECRET|SECRETS|TOKEN|CREDENTIAL|CREDENTIALS|APIKEY|(API|PRIVATE|ACCESS|SIGNING|ENCRYPTION|SESSION|MASTER|AUTH|CLIENT)_KEY)(_|$)/;

/**
 * Names that point at a secret rather than hold one (`DB_SECRET_ARN`, `TOKEN_URL`,
 * `API_KEY_PARAMETER_NAME`): the usual way to pass a secret to an application that reads it itself.
 */
const REFERENCE_SUFFIX = /_(ARN|NAME|ID|URL|URI|ENDPOINT|PATH|FILE|PARAMETER|PARAM|HEADER|TTL|EXPIRY|EXPIRES|LENGTH)$/;

/** Values that are a secret whatever their name: an error. */
const SECRET_VALUES: ReadonlyArray<{ readonly what: string; readonly pattern: RegExp }> = [
  { what: 'an AWS access key id', pattern: /\b(AKIA|ASIA)[A-Z0-9]{16}\b/ },
  { what: 'a private key', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  // `scheme://user:password@host`, and `redis://:password@host` (no user name)
  { what: 'a URL with a password in it', pattern: /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i },
  { what: 'a GitHub token', pattern: /\b(ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}/ },
  { what: 'a Slack token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { what: 'a JSON Web Token', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
];

/** What CloudFormation dynamic references to secrets look like once a token is resolved. */
const DYNAMIC_SECRET = /\{\{resolve:(secretsmanager|ssm-secure):/;

/** A plain environment variable that holds a secret for certain. */
export function secretValueKind(value: string): string | undefined {
  return SECRET_VALUES.find((s) => s.pattern.test(value))?.what;
}

/** A resolved token that would put a secret's value into the task definition in plain text. */
export function isDynamicSecretReference(resolved: unknown): boolean {
  return DYNAMIC_SECRET.test(JSON.stringify(resolved) ?? '');
}

/** A variable name that usually holds a secret. */
export function looksLikeSecretName(name: string): boolean {
  // dbPassword, DB_PASSWORD, db-password and db.password all become DB_PASSWORD.
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();
  return SECRET_WORDS.test(words) && !REFERENCE_SUFFIX.test(words);
}
