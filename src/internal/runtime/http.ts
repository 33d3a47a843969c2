/**
 * The presigned S3 URL the runtime writes to: a custom resource's `ResponseURL`. It takes a PUT of a
 * small JSON body with an empty content type (it was signed without one). It is a secret: anyone who
 * holds it can answer for the resource, so it is never logged and never part of an error message.
 * (A wait-condition handle's URL, which the same code could signal, is shown to anyone who may read
 * the stack: the runtime's waits have none, and are signalled through CloudFormation's API.)
 *
 * Internal: never exported from the package.
 */
import * as https from 'https';
import { keepHead, printable } from '../failure';

/**
 * A job's failure reason stays within this many bytes (JSON-encoded): it becomes the reason of its
 * result lookup's FAILED answer, whose whole response stays below 4,096 bytes.
 */
export const MAX_SIGNAL_REASON_BYTES = 2_048;

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

/**
 * The `<Code>` and `<Message>` of an S3 XML error, and nothing else of it (a SignatureDoesNotMatch
 * error repeats the access key, the string to sign and the signature provided); a body that is no
 * such XML is not repeated.
 */
export function s3ErrorOf(body: string): string {
  const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1];
  const code = field('Code');
  const message = field('Message');
  if (!code && !message) return '(no S3 error code in the answer)';
  return keepHead(printable([code, message].filter((p) => p).join(': ')), 512);
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
        // The body is S3's XML error. Some of them (SignatureDoesNotMatch) repeat the string to sign and
        // the signature: only its code and message are kept.
        const error = new Error(`${what} answered HTTP ${status}: ${s3ErrorOf(Buffer.concat(chunks).toString('utf8'))}`);
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
