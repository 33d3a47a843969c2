import { EventEmitter } from 'events';
import type * as https from 'https';
import { sendResponse, sendSignal, signalBody, transport } from '../../../src/internal/runtime/http';

const URL = 'https://127.0.0.1:9/handle?X-Amz-Expires=86399&X-Amz-Signature=SECRET';
const RESPONSE = { Status: 'SUCCESS' as const, PhysicalResourceId: 'p', StackId: 's', RequestId: 'r', LogicalResourceId: 'l' };

describe('presigned URL writes', () => {
  const original = { ...transport };
  afterEach(() => Object.assign(transport, original));

  test('a 5xx or a network fault is tried again, then succeeds', async () => {
    // GIVEN a URL that answers 503 once and drops the connection once
    const errors = [Object.assign(new Error('503'), { $metadata: { httpStatusCode: 503 } }), new Error('ECONNRESET')];
    const put = jest.fn(async () => {
      const e = errors.shift();
      if (e) throw e;
    });
    Object.assign(transport, { put, retryDelaysMs: [0, 0] });
    // WHEN / THEN
    await sendResponse(URL, RESPONSE);
    expect(put).toHaveBeenCalledTimes(3);
  });

  test('a 403 (an expired or deleted handle) is not tried again', async () => {
    const put = jest.fn(async () => { throw Object.assign(new Error('403'), { $metadata: { httpStatusCode: 403 } }); });
    Object.assign(transport, { put, retryDelaysMs: [0, 0] });
    await expect(sendSignal(URL, { Status: 'SUCCESS', Reason: 'r', UniqueId: 'u', Data: 'd' })).rejects.toThrow('403');
    expect(put).toHaveBeenCalledTimes(1);
  });

  test('a failed request never carries the URL\'s signature in its error', async () => {
    // GIVEN nothing listens on the port: the request itself fails
    Object.assign(transport, { retryDelaysMs: [] });
    // WHEN
    const error: Error = await sendResponse(URL, RESPONSE).then(() => new Error('no error'), (e) => e);
    // THEN
    expect(error.message).toMatch(/^custom-resource response URL: /);
    expect(`${error.message} ${error.stack}`).not.toMatch(/SECRET|X-Amz/);
  });

  test('a signal is printable JSON with a bounded reason', () => {
    const body = JSON.parse(signalBody({ Status: 'FAILURE', Reason: `\u001b[31mred\u001b[0m ${'x'.repeat(10_000)}`, UniqueId: 'u', Data: '' }));
    expect(body.Reason.startsWith('red ')).toBe(true);
    expect(Buffer.byteLength(body.Reason)).toBeLessThanOrEqual(2_048);
  });
});

describe('presigned URL writes: retries, bounds and the HTTPS request (issue 17)', () => {
  const original = { ...transport };
  afterEach(() => {
    Object.assign(transport, original);
    jest.restoreAllMocks();
  });

  const failing = (status?: number) => Object.assign(new Error(`HTTP ${status}`), status === undefined ? {} : { $metadata: { httpStatusCode: status } });

  test.each([[429], [500], [502], [504]])('HTTP %d is tried again', async (status) => {
    const errors = [failing(status)];
    const put = jest.fn(async () => { const e = errors.shift(); if (e) throw e; });
    Object.assign(transport, { put, retryDelaysMs: [0, 0] });
    await sendResponse(URL, RESPONSE);
    expect(put).toHaveBeenCalledTimes(2);
  });

  test.each([[400], [404], [428], [499]])('HTTP %d is not tried again', async (status) => {
    const put = jest.fn(async () => { throw failing(status); });
    Object.assign(transport, { put, retryDelaysMs: [0, 0] });
    await expect(sendResponse(URL, RESPONSE)).rejects.toThrow(`HTTP ${status}`);
    expect(put).toHaveBeenCalledTimes(1);
  });

  test('a URL that keeps failing is tried once per delay, then the last error is thrown', async () => {
    let calls = 0;
    const put = jest.fn(async () => { calls++; throw failing(503 + calls); });
    const delays: number[] = [];
    jest.spyOn(global, 'setTimeout').mockImplementation(((fn: () => void, ms: number) => { delays.push(ms); fn(); return 0 as any; }) as any);
    Object.assign(transport, { put, retryDelaysMs: [1_000, 3_000] });
    await expect(sendSignal(URL, { Status: 'SUCCESS', Reason: 'r', UniqueId: 'u', Data: 'd' })).rejects.toThrow('HTTP 506');
    expect(put).toHaveBeenCalledTimes(3);
    // THEN it waited 1 s, then 3 s, as paced
    expect(delays).toEqual([1_000, 3_000]);
  });

  test('the body sent is the response or the signal, as JSON, labelled for errors', async () => {
    const put = jest.fn(async (_url: string, _body: string, _what: string) => undefined);
    Object.assign(transport, { put });
    await sendResponse(URL, { ...RESPONSE, Data: { Digest: 'sha256:abc' } });
    await sendSignal(URL, { Status: 'FAILURE', Reason: 'boom', UniqueId: 'attempt-1', Data: '' });
    expect(put.mock.calls[0][0]).toEqual(URL);
    expect(JSON.parse(put.mock.calls[0][1])).toEqual({ ...RESPONSE, Data: { Digest: 'sha256:abc' } });
    expect(put.mock.calls[0][2]).toEqual('custom-resource response URL');
    expect(JSON.parse(put.mock.calls[1][1])).toEqual({ Status: 'FAILURE', Reason: 'boom', UniqueId: 'attempt-1', Data: '' });
    expect(put.mock.calls[1][2]).toEqual('wait-condition handle');
  });

  test('a signal\'s UniqueId and Data are printable and bounded too', () => {
    const body = JSON.parse(signalBody({ Status: 'SUCCESS', Reason: 'ok', UniqueId: `\u0000${'u'.repeat(100)}`, Data: `\u001b[1m${'d'.repeat(1_000)}` }));
    expect(body.Status).toEqual('SUCCESS');
    expect(body.UniqueId).toMatch(/^u+ \[\.\.\.\]$/);
    expect(Buffer.byteLength(body.UniqueId)).toBeLessThanOrEqual(64);
    expect(Buffer.byteLength(body.UniqueId)).toBeGreaterThan(60);
    expect(body.Data).toMatch(/^d+ \[\.\.\.\]$/);
    expect(Buffer.byteLength(body.Data)).toBeLessThanOrEqual(512);
    expect(Buffer.byteLength(body.Data)).toBeGreaterThan(500);
    expect(Buffer.byteLength(body.Reason)).toEqual(2);
  });

  /** Replaces https.request with a fake that answers `status` with `body`, and records the request. */
  function fakeHttps(answer: (request: FakeRequest) => void) {
    const sent: FakeRequest[] = [];
    // The module object itself: http.ts reads `request` from it at each call.
    jest.spyOn(jest.requireActual<typeof https>('https'), 'request').mockImplementation(((url: string, options: https.RequestOptions, callback: (r: any) => void) => {
      const request: FakeRequest = Object.assign(new EventEmitter(), {
        url,
        options,
        body: '',
        callback,
        end: (body: string) => { request.body = body; answer(request); },
        destroy: (error: Error) => { request.emit('error', error); },
      });
      sent.push(request);
      return request;
    }) as any);
    return sent;
  }
  interface FakeRequest extends EventEmitter {
    url: string;
    options: https.RequestOptions;
    body: string;
    callback: (r: any) => void;
    end: (body: string) => void;
    destroy: (error: Error) => void;
  }
  const respond = (status: number, body = '') => (request: FakeRequest) => {
    const response = new EventEmitter() as any;
    response.statusCode = status;
    request.callback(response);
    if (body) response.emit('data', Buffer.from(body));
    response.emit('end');
  };

  test('the real transport PUTs the body with an empty content type and its byte length', async () => {
    const sent = fakeHttps(respond(200));
    await transport.put(URL, '{"Reason":"é"}', 'wait-condition handle');
    expect(sent).toHaveLength(1);
    expect(sent[0].url).toEqual(URL);
    expect(sent[0].options.method).toEqual('PUT');
    expect(sent[0].options.headers).toEqual({ 'content-type': '', 'content-length': 15 });
    expect(sent[0].options.timeout).toEqual(30_000);
    expect(sent[0].body).toEqual('{"Reason":"é"}');
  });

  test.each([[200], [204], [299]])('HTTP %d is success', async (status) => {
    fakeHttps(respond(status));
    await expect(transport.put(URL, '{}', 'wait-condition handle')).resolves.toBeUndefined();
  });

  test.each([[300], [403], [503]])('HTTP %d is an error with its status and S3\'s bounded answer', async (status) => {
    fakeHttps(respond(status, `<Error><Code>AccessDenied</Code>${'m'.repeat(2_000)}</Error>\u0007`));
    const error = await transport.put(URL, '{}', 'wait-condition handle').then(() => undefined, (e) => e);
    expect(error.message).toMatch(new RegExp(`^wait-condition handle answered HTTP ${status}: <Error><Code>AccessDenied</Code>m+ \\[\\.\\.\\.\\]$`));
    expect(Buffer.byteLength(error.message)).toBeLessThan(600);
    expect(error.$metadata).toEqual({ httpStatusCode: status });
  });

  test('an answer without a status is an error, not a success', async () => {
    fakeHttps((request) => {
      const response = new EventEmitter() as any;
      request.callback(response);
      response.emit('end');
    });
    await expect(transport.put(URL, '{}', 'x')).rejects.toMatchObject({ $metadata: { httpStatusCode: 0 } });
  });

  test('a connection that breaks while reading, a timeout and a refused connection are errors without the URL', async () => {
    fakeHttps((request) => {
      const response = new EventEmitter() as any;
      request.callback(response);
      response.emit('error', new Error(`socket hang up ${URL}`));
    });
    await expect(transport.put(URL, '{}', 'handle')).rejects.toThrow(/^handle: the connection failed while reading the answer$/);
    jest.restoreAllMocks();

    fakeHttps((request) => request.emit('timeout'));
    await expect(transport.put(URL, '{}', 'handle')).rejects.toMatchObject({ name: 'TimeoutError', message: 'handle did not answer in 30 s' });
    jest.restoreAllMocks();

    fakeHttps((request) => request.emit('error', Object.assign(new Error(`connect ECONNREFUSED ${URL}`), { code: 'ECONNREFUSED' })));
    await expect(transport.put(URL, '{}', 'handle')).rejects.toMatchObject({ name: 'ECONNREFUSED', message: 'handle: ECONNREFUSED' });
    jest.restoreAllMocks();

    fakeHttps((request) => request.emit('error', new Error(`failed ${URL}`)));
    await expect(transport.put(URL, '{}', 'handle')).rejects.toMatchObject({ name: 'NetworkError', message: 'handle: request failed' });
  });
});

describe('presigned URL writes: the default pacing (issue 17)', () => {
  const original = { ...transport };
  afterEach(() => {
    Object.assign(transport, original);
    jest.restoreAllMocks();
  });

  test('a write that keeps failing is tried three times, after 1 s and then 3 s, before the deploy hears of it', async () => {
    // GIVEN the runtime's own delays, and a URL that answers 503 every time
    const put = jest.fn(async () => { throw Object.assign(new Error('503'), { $metadata: { httpStatusCode: 503 } }); });
    transport.put = put;
    const delays: number[] = [];
    jest.spyOn(global, 'setTimeout').mockImplementation(((fn: () => void, ms: number) => { delays.push(ms); fn(); return 0 as any; }) as any);
    // WHEN / THEN
    await expect(sendResponse(URL, RESPONSE)).rejects.toThrow('503');
    expect(put).toHaveBeenCalledTimes(3);
    expect(delays).toEqual([1_000, 3_000]);
  });
});
