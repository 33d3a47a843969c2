/**
 * Signals a CloudFormation wait-condition handle: an HTTPS PUT of a small JSON body to the
 * handle's presigned S3 URL. Internal: never exported from the package.
 */
import * as https from 'https';
import { keepHead, printable } from './failure';

/** The body of a wait-condition signal. */
export interface WaitSignal {
  readonly Status: 'SUCCESS' | 'FAILURE';
  readonly Reason: string;
  readonly UniqueId: string;
  readonly Data: string;
}

/** A signal's Reason stays within this many bytes, so the whole body stays far below 4,096 bytes. */
export const MAX_SIGNAL_REASON_BYTES = 2_048;

/** A signal's Data (an AMI id or an image ARN) stays within this many bytes. */
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

/**
 * Sends a signal to a wait-condition handle. The presigned URL was signed without a content type,
 * so the request sends an empty one. Throws on a non-2xx answer (with the status and a bounded body).
 */
export function sendSignal(url: string, signal: WaitSignal): Promise<void> {
  const body = signalBody(signal);
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
        } else {
          const error = new Error(`wait-condition handle answered HTTP ${status}: ${keepHead(printable(Buffer.concat(chunks).toString('utf8')), 512)}`);
          // 5xx and 429 are worth another try.
          (error as any).$metadata = { httpStatusCode: status };
          reject(error);
        }
      });
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error('wait-condition handle did not answer in 30 s'), { name: 'TimeoutError' })));
    request.on('error', reject);
    request.end(body);
  });
}
