import { EventEmitter } from 'events';
import type * as https from 'https';
import { s3ErrorOf, sendResponse, transport } from '../../../src/internal/runtime/http';

const URL = 'https://127.0.0.1:9/response?X-Amz-Expires=7200&X-Amz-Signature=SECRET';
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

  test('a 403 (an expired response URL) is not tried again', async () => {
    const put = jest.fn(async () => { throw Object.assign(new Error('403'), { $metadata: { httpStatusCode: 403 } }); });
    Object.assign(transport, { put, retryDelaysMs: [0, 0] });
    await expect(sendResponse(URL, RESPONSE)).rejects.toThrow('403');
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
    await expect(sendResponse(URL, RESPONSE)).rejects.toThrow('HTTP 506');
    expect(put).toHaveBeenCalledTimes(3);
    // THEN it waited 1 s, then 3 s, as paced
    expect(delays).toEqual([1_000, 3_000]);
  });

  test('the body sent is the response, as JSON, labelled for errors', async () => {
    const put = jest.fn(async (_url: string, _body: string, _what: string) => undefined);
    Object.assign(transport, { put });
    await sendResponse(URL, { ...RESPONSE, Data: { Digest: 'sha256:abc' } });
    expect(put.mock.calls[0][0]).toEqual(URL);
    expect(JSON.parse(put.mock.calls[0][1])).toEqual({ ...RESPONSE, Data: { Digest: 'sha256:abc' } });
    expect(put.mock.calls[0][2]).toEqual('custom-resource response URL');
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
    await transport.put(URL, '{"Reason":"é"}', 'custom-resource response URL');
    expect(sent).toHaveLength(1);
    expect(sent[0].url).toEqual(URL);
    expect(sent[0].options.method).toEqual('PUT');
    expect(sent[0].options.headers).toEqual({ 'content-type': '', 'content-length': 15 });
    expect(sent[0].options.timeout).toEqual(30_000);
    expect(sent[0].body).toEqual('{"Reason":"é"}');
  });

  test.each([[200], [204], [299]])('HTTP %d is success', async (status) => {
    fakeHttps(respond(status));
    await expect(transport.put(URL, '{}', 'custom-resource response URL')).resolves.toBeUndefined();
  });

  test.each([[300], [403], [503]])('HTTP %d is an error with its status and S3\'s code and message, bounded', async (status) => {
    fakeHttps(respond(status, `<Error><Code>AccessDenied</Code><Message>${'m'.repeat(2_000)}</Message></Error>\u0007`));
    const error = await transport.put(URL, '{}', 'custom-resource response URL').then(() => undefined, (e) => e);
    expect(error.message).toMatch(new RegExp(`^custom-resource response URL answered HTTP ${status}: AccessDenied: m+ \\[\\.\\.\\.\\]$`));
    expect(Buffer.byteLength(error.message)).toBeLessThan(600);
    expect(error.$metadata).toEqual({ httpStatusCode: status });
  });

  test('S3\'s SignatureDoesNotMatch answer: only its code and message reach the log, never the key, the string to sign or the signature (review #18)', async () => {
    const signature = 'a1b2c3'.repeat(10) + 'ffff';
    const body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message>'
      + `<AWSAccessKeyId>ASIAEXAMPLEKEY</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256\n20261201T100000Z\n20261201/us-east-1/s3/aws4_request\n${'0'.repeat(64)}</StringToSign><SignatureProvided>${signature}</SignatureProvided>`
      + '<StringToSignBytes>41 57 53</StringToSignBytes><RequestId>R</RequestId><HostId>H</HostId></Error>';
    fakeHttps(respond(403, body));
    const error = await transport.put(URL, '{}', 'custom-resource response URL').then(() => undefined, (e) => e);
    expect(error.message).toEqual('custom-resource response URL answered HTTP 403: SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. Check your key and signing method.');
    expect(error.message).not.toMatch(/ASIA|AWS4-HMAC|a1b2c3|41 57/);
  });

  test('an answer that is no S3 error is not repeated', () => {
    expect(s3ErrorOf('<html>proxy error for https://x?X-Amz-Signature=abc</html>')).toEqual('(no S3 error code in the answer)');
    expect(s3ErrorOf('<Error><Code>SlowDown</Code></Error>')).toEqual('SlowDown');
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
