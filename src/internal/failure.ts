/**
 * Helpers that keep a handler's failure readable and small. CloudFormation rejects a
 * custom-resource response over 4,096 bytes, and an event with control characters is
 * hard to read, so every failure message a handler reports goes through `failureMessage()`.
 *
 * Internal: never exported from the package.
 */

/** The budget for the failure reason inside a custom-resource response (4,096 bytes in all). */
export const MAX_REASON_BYTES = 2_048;

const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff0-\uffff]/g;

/** Removes ANSI colour codes and characters that cannot be printed; keeps tabs and newlines. */
export function printable(text: string): string {
  // Line ends first: a carriage return (progress output, Windows line ends) is in the stripped range.
  return text.replace(/\r\n?/g, '\n').replace(ANSI, '').replace(UNPRINTABLE, '');
}

/** The last `count` non-empty lines of a text. */
export function lastLines(text: string, count: number): string[] {
  return text.split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0).slice(-count);
}

/** Whether a byte continues a multi-byte UTF-8 character (10xxxxxx). */
function isContinuation(byte: number): boolean {
  return byte >= 0x80 && byte < 0xc0;
}

/** Cuts text to at most `maxBytes` UTF-8 bytes, keeping the end (where the error usually is) and marking the cut. */
export function keepTail(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const marker = '[...] ';
  let bytes = Buffer.from(text, 'utf8');
  bytes = bytes.subarray(bytes.length - (maxBytes - marker.length));
  // Drop a partial UTF-8 character at the cut.
  let start = 0;
  while (start < bytes.length && isContinuation(bytes[start])) start++;
  return marker + bytes.subarray(start).toString('utf8');
}

/** Cuts text to at most `maxBytes` UTF-8 bytes, keeping the start and marking the cut. */
export function keepHead(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const marker = ' [...]';
  const bytes = Buffer.from(text, 'utf8').subarray(0, maxBytes - marker.length);
  // Back up to the lead byte of the last character; keep that character only if it is whole.
  let lead = bytes.length;
  while (lead > 0 && isContinuation(bytes[lead - 1])) lead--;
  const end = lead > 0 && bytes.length - (lead - 1) < sequenceLength(bytes[lead - 1]) ? lead - 1 : bytes.length;
  return bytes.subarray(0, end).toString('utf8') + marker;
}

/** The number of bytes of the UTF-8 character that starts with this lead byte. */
function sequenceLength(lead: number): number {
  return lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
}

/** A part of a failure message. */
export interface FailurePart {
  /** e.g. 'Failed phase', 'Log tail'. */
  readonly label: string;
  readonly text: string;
  /** Keep the end of the text rather than its start when it must be cut (log tails). */
  readonly keepEnd?: boolean;
}

/** The size of a text once JSON-encoded (as CloudFormation receives it), without the quotes around it. */
export function jsonBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text), 'utf8') - 2;
}

/**
 * Builds a failure message from a headline and labelled parts: stripped of unprintable
 * characters and at most `maxBytes` bytes once JSON-encoded (a custom-resource response and a
 * wait-condition signal are JSON, where every quote, backslash and tab takes two bytes).
 * The headline and the short parts are kept whole where possible; long parts share what is left.
 */
export function failureMessage(headline: string, parts: FailurePart[], maxBytes: number = MAX_REASON_BYTES): string {
  let budget = maxBytes;
  let message = renderFailure(headline, parts, budget);
  while (jsonBytes(message) > maxBytes && budget > 256) {
    // Escapes grow with the text: shrink the budget in proportion, not by the excess alone.
    budget = Math.max(256, Math.floor((budget * maxBytes) / jsonBytes(message)) - 16);
    message = renderFailure(headline, parts, budget);
  }
  return message;
}

function renderFailure(headline: string, parts: FailurePart[], maxBytes: number): string {
  const head = keepHead(printable(headline).trim(), Math.floor(maxBytes / 2));
  const cleaned = parts
    .map((p) => ({ ...p, text: printable(p.text).trim() }))
    .filter((p) => p.text.length > 0);
  let budget = maxBytes - Buffer.byteLength(head, 'utf8');
  const out: string[] = [head];
  // Give short parts what they need first, then split the rest evenly among the long ones.
  const order = cleaned.map((p, i) => ({ p, i, size: Buffer.byteLength(`\n${p.label}: ${p.text}`, 'utf8') })).sort((a, b) => a.size - b.size);
  const rendered = new Array<string>(cleaned.length);
  let remaining = order.length;
  for (const { p, i, size } of order) {
    const share = Math.floor(budget / remaining);
    remaining--;
    const prefix = `\n${p.label}: `;
    const room = share - Buffer.byteLength(prefix, 'utf8');
    if (room < 16) continue;
    const text = size <= share ? p.text : p.keepEnd ? keepTail(p.text, room) : keepHead(p.text, room);
    rendered[i] = prefix + text;
    budget -= Buffer.byteLength(rendered[i], 'utf8');
  }
  out.push(...rendered.filter((r) => r !== undefined));
  return out.join('');
}

/** Error names and codes that mean "try again later", not "failed". */
const RETRYABLE = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  // EC2 Image Builder's name for throttling.
  'CallRateLimitExceededException',
  'ProvisionedThroughputExceededException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServerError',
  'InternalServerException',
  'InternalError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ECONNRESET',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'EPIPE',
]);

/**
 * Whether an error from an AWS SDK call is throttling or a transient fault: a handler that
 * polls treats it as "not complete yet" rather than failing the deployment.
 */
export function isRetryable(error: unknown): boolean {
  const e = error as { name?: string; code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } } | undefined;
  if (!e || typeof e !== 'object') return false;
  if (e.$retryable) return true;
  if ((e.name && RETRYABLE.has(e.name)) || (e.code && RETRYABLE.has(e.code))) return true;
  const status = e.$metadata?.httpStatusCode;
  return status === 429 || (status !== undefined && status >= 500);
}

/**
 * Error names of a call IAM refused (EC2 says `UnauthorizedOperation`, Image Builder
 * `ForbiddenException`, most services `AccessDenied` or `AccessDeniedException`).
 */
const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'ForbiddenException']);

/**
 * Whether a call was refused by IAM (also behind a failure that explains it: its `origin`). Right
 * after CloudFormation changed the caller's policy this may be IAM propagating the change (its
 * eventual consistency), not a missing grant: the runtime tries such a call again while its policy
 * is new.
 */
export function isAccessDenied(error: unknown): boolean {
  const e = error as { name?: string; code?: string; origin?: unknown } | undefined;
  if (!e || typeof e !== 'object') return false;
  if (e.origin !== undefined && e.origin !== error) return isAccessDenied(e.origin);
  return (e.name !== undefined && ACCESS_DENIED.has(e.name)) || (e.code !== undefined && ACCESS_DENIED.has(e.code));
}

/** The message of an unknown thrown value. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
