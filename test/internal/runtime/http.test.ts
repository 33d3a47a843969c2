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
