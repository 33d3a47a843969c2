import { errorText, failureMessage, isRetryable, jsonBytes, keepHead, keepTail, lastLines, MAX_REASON_BYTES, printable } from '../../src/internal/failure';

describe('failure messages', () => {
  test('printable() strips ANSI colours and control characters but keeps newlines and tabs', () => {
    expect(printable('\u001b[31mred\u001b[0m\tok\u0000\u0007\r\nnext\u200b')).toEqual('red\tok\nnext');
  });

  test('lastLines() keeps the last non-empty lines', () => {
    expect(lastLines('a\n\nb\nc\n\n', 2)).toEqual(['b', 'c']);
  });

  test('keepTail() and keepHead() respect the byte budget without splitting a character', () => {
    const text = 'é'.repeat(1000); // 2 bytes each
    const tail = keepTail(text, 101);
    expect(Buffer.byteLength(tail, 'utf8')).toBeLessThanOrEqual(101);
    expect(tail.startsWith('[...] ')).toBe(true);
    expect(tail).not.toContain('\ufffd');
    const head = keepHead(text, 101);
    expect(Buffer.byteLength(head, 'utf8')).toBeLessThanOrEqual(101);
    expect(head.endsWith(' [...]')).toBe(true);
    expect(head).not.toContain('\ufffd');
    expect(keepHead('short', 100)).toEqual('short');
  });

  test('failureMessage() keeps short parts whole and cuts a 100 KB log to fit the budget', () => {
    const log = Array.from({ length: 2000 }, (_, i) => `line ${i} \u001b[32mof the build\u001b[0m ${'x'.repeat(40)}`).join('\n');
    const message = failureMessage('Build abc failed: FAILED', [
      { label: 'Failed phase', text: 'BUILD (COMMAND_EXECUTION_ERROR)' },
      { label: 'Log tail', text: log, keepEnd: true },
      { label: 'Full log', text: 'CloudWatch Logs group /aws/codebuild/x' },
    ]);
    expect(Buffer.byteLength(message, 'utf8')).toBeLessThanOrEqual(MAX_REASON_BYTES);
    expect(message).toMatch(/^Build abc failed: FAILED/);
    expect(message).toContain('Failed phase: BUILD (COMMAND_EXECUTION_ERROR)');
    expect(message).toContain('Full log: CloudWatch Logs group /aws/codebuild/x');
    expect(message).toContain('line 1999 of the build');
    expect(message).not.toContain('\u001b');
  });

  test('failureMessage() bounds the JSON-encoded size, where quotes, backslashes and tabs take two bytes', () => {
    const log = Array.from({ length: 500 }, () => '"quoted" \\path\\ \t tab').join('\n');
    const message = failureMessage('Build failed', [{ label: 'Log tail', text: log, keepEnd: true }]);
    expect(jsonBytes(message)).toBeLessThanOrEqual(MAX_REASON_BYTES);
    expect(jsonBytes(message)).toBeGreaterThan(MAX_REASON_BYTES / 2);
    expect(message).toContain('Log tail: ');
  });

  test('isRetryable() knows throttling and transient faults from real failures', () => {
    expect(isRetryable({ name: 'ThrottlingException' })).toBe(true);
    expect(isRetryable({ name: 'X', $metadata: { httpStatusCode: 503 } })).toBe(true);
    expect(isRetryable({ name: 'X', $retryable: { throttling: true } })).toBe(true);
    expect(isRetryable({ code: 'ECONNRESET' })).toBe(true);
    expect(isRetryable({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } })).toBe(false);
    expect(isRetryable(undefined)).toBe(false);
  });

  test('Image Builder\'s throttling is retryable, though it arrives with a 4xx status (docs/aws-behaviour.md #26)', () => {
    expect(isRetryable({ name: 'CallRateLimitExceededException', $metadata: { httpStatusCode: 429 } })).toBe(true);
    expect(isRetryable({ name: 'CallRateLimitExceededException', $metadata: { httpStatusCode: 400 } })).toBe(true);
    expect(isRetryable({ name: 'ServiceQuotaExceededException', $metadata: { httpStatusCode: 402 } })).toBe(false);
  });

  test('errorText() names the error', () => {
    expect(errorText(new TypeError('boom'))).toEqual('TypeError: boom');
    expect(errorText('plain')).toEqual('plain');
  });
});
