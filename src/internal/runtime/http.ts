/**
 * The two presigned S3 URLs the runtime writes to: a custom resource's `ResponseURL` and a wait
 * condition's handle. Both take a PUT of a small JSON body with an empty content type (they were
 * signed without one). Both URLs are secrets: anyone who holds one can fail a deploy, so they are
 * never logged and never part of an error message.
 *
 * Internal: never exported from the package.
 */
import * as https from 'https';
import { keepHead, printable } from '../failure';

/** The body of a wait-condition signal. */
export interface WaitSignal {
  readonly Status: 'SUCCESS' | 'FAILURE';
  readonly Reason: string;
  readonly UniqueId: string;
  readonly Data: string;
}

/** A signal's Reason stays within this many bytes, so the whole body stays far below 4,096 bytes. */
export const MAX_SIGNAL_REASON_BYTES = 2_048;

/** A signal's Data (an AMI id or an image digest) stays within this many bytes. */
export const MAX_SIGNAL_DATA_BYTES = 512;

/** Builds the JSON body of a signal: printable, bounded. */
export function signalBody(signal: WaitSignal): string {
  return JSON.stringify({
    Status: signal.Status,
    Reason: keepHead(printable(signal.Reason), MAX_SIGNAL_REASON_BYTES),
    UniqueId: keepHead(printable(signal.UniqueId), 64),
    Data: keepHead(printable(signal.Data), MAX_SIGNAL_DATA_BYTES),
  });
}

/** What a custom resource answers CloudFormation. */
export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly Data?: { readonly [key: string]: string };
}

/** The transport and its pacing; tests replace them. `put` throws on a non-2xx answer with `$metadata.httpStatusCode`. */
export const transport = { put: httpsPut, retryDelaysMs: [1_000, 3_000] };

/** Sends a signal to a wait-condition handle. */
export function sendSignal(url: string, signal: WaitSignal): Promise<void> {
  return putWithRetries(url, signalBody(signal), 'wait-condition handle');
}

/** Answers CloudFormation for a custom resource. */
export function sendResponse(url: string, response: CustomResourceResponse): Promise<void> {
  return putWithRetries(url, JSON.stringify(response), 'custom-resource response URL');
}

/** A PUT that tries again after a network fault or a 5xx answer: a lost answer would leave the stack waiting. */
async function putWithRetries(url: string, body: string, what: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await transport.put(url, body, what);
      return;
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const transient = status === undefined || status >= 500 || status === 429;
      if (!transient || attempt >= transport.retryDelaysMs.length) throw e;
      await new Promise((resolve) => setTimeout(resolve, transport.retryDelaysMs[attempt]));
    }
  }
}

function httpsPut(url: string, body: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = https.request(url, {
      method: 'PUT',
      headers: { 'content-type': '', 'content-length': Buffer.byteLength(body, 'utf8') },
      timeout: 30_000,
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          resolve();
          return;
        }
        // The body is S3's XML error (code and message), which never repeats the URL's signature.
        const error = new Error(`${what} answered HTTP ${status}: ${keepHead(printable(Buffer.concat(chunks).toString('utf8')), 512)}`);
        // 5xx and 429 are worth another try; 403 means the presigned URL expired or was never valid.
        (error as any).$metadata = { httpStatusCode: status };
        reject(error);
      });
      response.on('error', () => reject(new Error(`${what}: the connection failed while reading the answer`)));
    });
    // destroy() emits its error as the request's 'error': that one is passed on as it is.
    const timeout = Object.assign(new Error(`${what} did not answer in 30 s`), { name: 'TimeoutError' });
    request.on('timeout', () => request.destroy(timeout));
    // Node's error names the host and path of the URL, never its query (the signature); keep only its code.
    request.on('error', (e: NodeJS.ErrnoException) => reject(e === timeout ? e : Object.assign(new Error(`${what}: ${e.code ?? 'request failed'}`), { name: e.code ?? 'NetworkError' })));
    request.end(body);
  });
}
