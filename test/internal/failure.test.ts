import { errorText, failureMessage, isAccessDenied, isRetryable, jsonBytes, keepHead, keepTail, lastLines, MAX_REASON_BYTES, printable } from '../../src/internal/failure';

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

describe('printable() strips every unprintable range (issue 17)', () => {
  // The first and last character of each range that printable() removes.
  const stripped: Array<[string, string]> = [
    ['NUL', '\u0000'], ['BS', '\u0008'],
    ['VT', '\u000b'], ['US', '\u001f'],
    ['DEL', '\u007f'], ['last C1 control', '\u009f'], ['first C1 control', '\u0080'],
    ['zero-width space', '\u200b'], ['right-to-left mark', '\u200f'],
    ['line separator', '\u2028'], ['right-to-left override', '\u202e'],
    ['word joiner', '\u2060'], ['nominal digit shapes', '\u206f'],
    ['byte-order mark', '\ufeff'],
    ['first special', '\ufff0'], ['replacement character', '\ufffd'], ['last special', '\uffff'],
  ];
  test.each(stripped)('%s is removed', (_name, char) => {
    // GIVEN a log line with the character inside a word
    // WHEN it is made printable
    // THEN the word reads whole again
    expect(printable(`bu${char}ild`)).toEqual('build');
  });

  // The neighbours of each range stay: they are printable text a user reads.
  const kept: Array<[string, string]> = [
    ['tab', '\t'], ['newline', '\n'], ['space', ' '], ['tilde', '~'], ['no-break space', '\u00a0'],
    ['hair space', '\u200a'], ['hyphenation point', '\u2027'], ['narrow no-break space', '\u202f'],
    ['medium mathematical space', '\u205f'], ['superscript zero', '\u2070'], ['fullwidth won sign', '\uffe6'],
  ];
  test.each(kept)('%s is kept', (_name, char) => {
    expect(printable(`a${char}b`)).toEqual(`a${char}b`);
  });

  test('ANSI sequences with parameters and private modes are removed whole', () => {
    expect(printable('\u001b[1;31mERROR\u001b[0m \u001b[?25lhidden cursor\u001b[2K')).toEqual('ERROR hidden cursor');
  });

  test('a carriage return ends a line, so progress output does not run together', () => {
    // GIVEN progress lines rewritten with a lone CR (docker pull, npm) and Windows line ends
    const log = 'Downloading 50%\rDownloading 100%\r\nDone';
    // THEN each becomes its own line, and lastLines() sees the last state
    expect(printable(log)).toEqual('Downloading 50%\nDownloading 100%\nDone');
    expect(lastLines(printable(log), 2)).toEqual(['Downloading 100%', 'Done']);
  });
});

describe('isRetryable() (issue 17)', () => {
  const retried = [
    'ThrottlingException', 'Throttling', 'ThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded',
    'RequestThrottled', 'RequestThrottledException', 'CallRateLimitExceededException', 'ProvisionedThroughputExceededException',
    'ServiceUnavailable', 'ServiceUnavailableException', 'InternalFailure', 'InternalServerError', 'InternalServerException',
    'InternalError', 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError',
  ];
  test.each(retried)('%s is retried, even when it arrives with a 400 status', (name) => {
    expect(isRetryable(Object.assign(new Error('slow down'), { name, $metadata: { httpStatusCode: 400 } }))).toBe(true);
  });

  test.each(['ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNREFUSED', 'EPIPE'])('a network error %s (code, no status) is retried', (code) => {
    expect(isRetryable(Object.assign(new Error(`connect ${code}`), { code }))).toBe(true);
  });

  test.each([
    [429, true], [500, true], [502, true], [503, true], [504, true],
    [400, false], [403, false], [404, false], [409, false], [428, false], [430, false], [499, false],
  ])('an unnamed error with HTTP status %d is retried: %s', (status, expected) => {
    expect(isRetryable({ name: 'SomeServiceError', $metadata: { httpStatusCode: status } })).toBe(expected);
  });

  test.each(['AccessDeniedException', 'ValidationException', 'ResourceNotFoundException', 'LimitExceededException', 'InvalidParameterValueException'])(
    'a real failure %s with a 400 status is not retried', (name) => {
      expect(isRetryable({ name, $metadata: { httpStatusCode: 400 } })).toBe(false);
    });

  test('the SDK\'s own $retryable flag wins over a 4xx status; a false flag does not', () => {
    expect(isRetryable({ name: 'X', $retryable: {}, $metadata: { httpStatusCode: 400 } })).toBe(true);
    expect(isRetryable({ name: 'X', $retryable: false, $metadata: { httpStatusCode: 400 } })).toBe(false);
  });

  test('an error without name, code or status, and values that are not errors, are not retried', () => {
    expect(isRetryable({})).toBe(false);
    expect(isRetryable(new Error('boom'))).toBe(false);
    expect(isRetryable(null)).toBe(false);
    expect(isRetryable('ThrottlingException')).toBe(false);
    expect(isRetryable(503)).toBe(false);
  });
});

describe('cutting to a byte budget (issue 17)', () => {
  test('a text that fits exactly is kept whole, one byte more is cut', () => {
    expect(keepTail('0123456789', 10)).toEqual('0123456789');
    expect(keepHead('0123456789', 10)).toEqual('0123456789');
    // a cut spends the whole budget, marker included
    expect(keepTail('0123456789A', 10)).toEqual('[...] 789A');
    expect(keepHead('0123456789A', 10)).toEqual('0123 [...]');
  });

  test('keepTail() keeps whole characters at the cut, and as many as fit', () => {
    // GIVEN 2-byte characters and a 4-byte room after the marker
    // THEN two whole characters, none split
    expect(keepTail('é'.repeat(6), 6 + 4)).toEqual('[...] éé');
    // an odd room drops the half character at the cut
    expect(keepTail('é'.repeat(6), 6 + 5)).toEqual('[...] éé');
    // a continuation byte of 0x80 (À is C3 80) is a continuation too
    expect(keepTail('À'.repeat(6), 6 + 3)).toEqual('[...] À');
    // 4-byte characters: 7 bytes of room keep one, not a broken second
    expect(keepTail('😀'.repeat(4), 6 + 7)).toEqual('[...] 😀');
    expect(keepTail('€'.repeat(6), 6 + 7)).toEqual('[...] €€');
  });

  test('keepHead() keeps whole characters at the cut, and as many as fit', () => {
    expect(keepHead('é'.repeat(6), 4 + 6)).toEqual('éé [...]');
    expect(keepHead('é'.repeat(6), 5 + 6)).toEqual('éé [...]');
    expect(keepHead('À'.repeat(6), 3 + 6)).toEqual('À [...]');
    expect(keepHead('😀'.repeat(4), 7 + 6)).toEqual('😀 [...]');
    expect(keepHead('😀'.repeat(4), 8 + 6)).toEqual('😀😀 [...]');
    expect(keepHead('a😀'.repeat(4), 6 + 6)).toEqual('a😀a [...]');
    // 3-byte characters: 5 bytes of room keep one, 6 keep two
    expect(keepHead('€'.repeat(6), 5 + 6)).toEqual('€ [...]');
    expect(keepHead('€'.repeat(6), 6 + 6)).toEqual('€€ [...]');
  });
});

describe('failureMessage() budget (issue 17)', () => {
  const long = (n: number, prefix = 'line') => Array.from({ length: n }, (_, i) => `${prefix} ${i} ${'x'.repeat(30)}`).join('\n');

  test.each([600, 1_024, 2_048, 4_000])('fits a budget of %d bytes and uses most of it', (max) => {
    // GIVEN a long headline-free failure with two long logs and JSON-heavy text
    const message = failureMessage('Build failed', [
      { label: 'Log tail', text: long(400).replace(/x/g, '"'), keepEnd: true },
      { label: 'Output', text: long(400, 'out') },
    ], max);
    // THEN it fits once JSON-encoded, and does not throw most of the budget away
    expect(jsonBytes(message)).toBeLessThanOrEqual(max);
    expect(jsonBytes(message)).toBeGreaterThan(max * 0.6);
  });

  test('the default budget is MAX_REASON_BYTES', () => {
    const parts = [{ label: 'Log tail', text: long(400), keepEnd: true }];
    expect(failureMessage('Build failed', parts)).toEqual(failureMessage('Build failed', parts, MAX_REASON_BYTES));
    expect(jsonBytes(failureMessage('Build failed', parts))).toBeGreaterThan(MAX_REASON_BYTES * 0.9);
  });

  test('a short message is returned whole, parts in the order given', () => {
    const message = failureMessage('Bake failed', [
      { label: 'Failed step', text: 'a much longer step name than the other part' },
      { label: 'Reason', text: 'short' },
    ]);
    expect(message).toEqual('Bake failed\nFailed step: a much longer step name than the other part\nReason: short');
  });

  test('parts with nothing printable are left out, and text is stripped and trimmed', () => {
    const message = failureMessage('  \u001b[31mBake failed\u001b[0m  ', [
      { label: 'Empty', text: ' \u0000\u200b \n' },
      { label: 'Reason', text: '\n  no space left\u0007  \n' },
    ]);
    expect(message).toEqual('Bake failed\nReason: no space left');
  });

  test('a long log keeps its end, a long output without keepEnd its start, and both share the room', () => {
    const message = failureMessage('Build failed', [
      { label: 'Log tail', text: long(400), keepEnd: true },
      { label: 'Output', text: long(400, 'out') },
    ], 1_000);
    const [, tail, output] = message.split(/\n(?=Log tail: |Output: )/);
    expect(tail).toMatch(/^Log tail: \[\.\.\.\] /);
    expect(tail).toContain('line 399 ');
    expect(output).toMatch(/^Output: out 0 /);
    expect(output).toMatch(/ \[\.\.\.\]$/);
    // each gets about half of what the headline leaves
    for (const part of [tail, output]) {
      expect(Buffer.byteLength(part)).toBeGreaterThan(400);
      expect(Buffer.byteLength(part)).toBeLessThanOrEqual(500);
    }
  });

  test('short parts are kept whole while a long one takes the rest, whatever their order', () => {
    const message = failureMessage('Build failed', [
      { label: 'Log tail', text: long(400), keepEnd: true },
      { label: 'Failed phase', text: 'BUILD' },
      { label: 'Full log', text: 'CloudWatch Logs group /aws/codebuild/x' },
    ], 600);
    expect(message).toMatch(/^Build failed\nLog tail: \[\.\.\.\] .*line 399 x+\nFailed phase: BUILD\nFull log: CloudWatch Logs group \/aws\/codebuild\/x$/s);
    expect(jsonBytes(message)).toBeLessThanOrEqual(600);
    expect(jsonBytes(message)).toBeGreaterThan(550);
  });

  test('a very long headline is cut to half the budget, so the parts still show', () => {
    const message = failureMessage(`Build failed: ${'y'.repeat(5_000)}`, [{ label: 'Reason', text: 'disk full' }], 1_000);
    const [headline] = message.split('\n');
    expect(headline).toMatch(/^Build failed: y+ \[\.\.\.\]$/);
    expect(Buffer.byteLength(headline)).toBeLessThanOrEqual(500);
    expect(Buffer.byteLength(headline)).toBeGreaterThan(490);
    expect(message).toContain('\nReason: disk full');
  });

  test('a part with less than 16 bytes of room is left out rather than shown as a stub', () => {
    // GIVEN a 40-byte budget: the headline takes half, which leaves 11 bytes for the reason's text
    const message = failureMessage('h'.repeat(100), [{ label: 'Reason', text: 'z'.repeat(100) }], 40);
    expect(message).toEqual(`${'h'.repeat(14)} [...]`);
  });

  test('the share of a part left out goes to the parts after it', () => {
    // GIVEN six long parts in 32 bytes: none fits a sixth, the last gets what the others left
    const parts = Array.from({ length: 6 }, (_, i) => ({ label: `P${i}`, text: 'z'.repeat(100) }));
    const message = failureMessage('h'.repeat(100), parts, 64);
    expect(message.split('\n')).toHaveLength(2);
    expect(message).toMatch(/\nP5: z+ \[\.\.\.\]$/);
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(64);
  });

  test('JSON escapes shrink the budget until the message fits, not further', () => {
    // GIVEN a log of backslashes: each takes two bytes once JSON-encoded
    const message = failureMessage('Build failed', [{ label: 'Log tail', text: '\\'.repeat(10_000), keepEnd: true }], 1_000);
    expect(jsonBytes(message)).toBeLessThanOrEqual(1_000);
    expect(jsonBytes(message)).toBeGreaterThan(900);
  });
});

describe('log lines and sizes (issue 17)', () => {
  test('lastLines() drops trailing blanks and whitespace-only lines, keeps indentation, and counts from the end', () => {
    expect(lastLines('first  \n   \n  indented\t\nlast \n', 2)).toEqual(['  indented', 'last']);
    expect(lastLines('a\nb\nc', 5)).toEqual(['a', 'b', 'c']);
    expect(lastLines('a\nb\nc', 1)).toEqual(['c']);
  });

  test('jsonBytes() counts what JSON adds to quotes, backslashes and control characters, not the quotes around it', () => {
    expect(jsonBytes('')).toEqual(0);
    expect(jsonBytes('abc')).toEqual(3);
    expect(jsonBytes('a"b\\c\td')).toEqual(10);
    expect(jsonBytes('é')).toEqual(2);
  });

  test('ANSI sequences with intermediate bytes (cursor styles) are removed whole, and text around them stays', () => {
    expect(printable('a\u001b[2 qb')).toEqual('ab');
    expect(printable('\u001b[38;5;196mred\u001b[m')).toEqual('red');
    // a bracket without ESC is text
    expect(printable('[31m] kept')).toEqual('[31m] kept');
  });
});

describe('failureMessage() edges, and codes that are not transient (issue 17)', () => {
  test('a 3-byte character whose lead byte is 0xE0 (U+0800) is kept whole or not at all', () => {
    // 'ࠀ' is E0 A0 80
    expect(keepHead('\u0800'.repeat(6), 5 + 6)).toEqual('\u0800 [...]');
    expect(keepHead('\u0800'.repeat(6), 6 + 6)).toEqual('\u0800\u0800 [...]');
  });

  test('a message that fits its budget exactly is returned whole', () => {
    // 'h' + '\nL: ' + 295 characters: 300 bytes, 301 once JSON-encoded (the newline takes 2)
    const text = 'x'.repeat(295);
    const message = failureMessage('h', [{ label: 'L', text }], 301);
    expect(message).toEqual(`h\nL: ${text}`);
    expect(jsonBytes(message)).toEqual(301);
  });

  test('a part with exactly 16 bytes of room is shown, cut', () => {
    expect(failureMessage('h', [{ label: 'L', text: 'x'.repeat(100) }], 21)).toEqual(`h\nL: ${'x'.repeat(10)} [...]`);
  });

  test('at 256 bytes or less the budget bounds the text, and JSON escapes may take it past: it never loops', () => {
    // GIVEN a log of quotes, which double once JSON-encoded
    const parts = [{ label: 'Log tail', text: '"'.repeat(5_000), keepEnd: true }];
    for (const max of [100, 256]) {
      const message = failureMessage('Build failed', parts, max);
      // THEN it returns, with the end of the log cut to the budget in bytes of text
      expect(Buffer.byteLength(message)).toBeLessThanOrEqual(max);
      expect(Buffer.byteLength(message)).toBeGreaterThan(max - 8);
      expect(message).toMatch(/^Build failed\nLog tail: \[\.\.\.\] "+$/);
    }
  });

  test.each(['ENOENT', 'ERR_INVALID_ARG_TYPE', 'ValidationError'])('an error with the code %s, which is not transient, is not retried', (code) => {
    expect(isRetryable(Object.assign(new Error('bad'), { code }))).toBe(false);
  });
});

describe('isAccessDenied() (review 2026-12-06-runtime #2)', () => {
  test.each(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'ForbiddenException'])('%s is a refusal by IAM, by its name or its code', (name) => {
    expect(isAccessDenied(Object.assign(new Error('x'), { name }))).toBe(true);
    expect(isAccessDenied({ code: name })).toBe(true);
  });

  test('a failure that explains a refusal is one (its origin); throttling, other errors and non-errors are not', () => {
    const refused = Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    expect(isAccessDenied(Object.assign(new Error('may not read ...'), { name: 'JobFailure', origin: refused }))).toBe(true);
    expect(isAccessDenied(Object.assign(new Error('no image'), { name: 'JobFailure', origin: new Error('ImageNotFoundException') }))).toBe(false);
    expect(isAccessDenied(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))).toBe(false);
    expect(isAccessDenied(undefined)).toBe(false);
    expect(isAccessDenied('AccessDenied')).toBe(false);
    const loop: any = Object.assign(new Error('self'), { name: 'JobFailure' });
    loop.origin = loop;
    expect(isAccessDenied(loop)).toBe(false);
  });
});
