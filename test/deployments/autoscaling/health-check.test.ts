/**
 * InstanceHealthCheck.http() does what its documentation says: 2xx and 3xx are healthy, 4xx and 5xx
 * are not, and a redirect is not followed (its 3xx is the answer). The Linux probe is run with bash
 * and curl against a local server. curl follows no redirect without --location, and --fail fails on
 * 400 and above only: https://curl.se/docs/manpage.html#-f
 */
import { execFile } from 'child_process';
import * as http from 'http';
import { AddressInfo } from 'net';
import { InstanceHealthCheck } from '../../../src/deployments/autoscaling';

/** A server that answers every request with `status` (and a Location that nothing listens at). */
async function serve(status: number): Promise<http.Server> {
  const server = http.createServer((_req, res) => {
    res.writeHead(status, status >= 300 && status < 400 ? { Location: 'http://127.0.0.1:1/unreachable' } : {});
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Whether the Linux probe of `InstanceHealthCheck.http()` passes against a server answering `status`. */
async function probePasses(status: number): Promise<boolean> {
  const server = await serve(status);
  try {
    const port = (server.address() as AddressInfo).port;
    const probe = InstanceHealthCheck.http({ port, path: '/health' })._linuxProbe;
    return await new Promise((resolve) => execFile('bash', ['-c', probe], (error) => resolve(error === null)));
  } finally {
    server.close();
  }
}

describe('InstanceHealthCheck.http()', () => {
  test.each([200, 204, 301, 302, 307])('%d is healthy', async (status) => {
    expect(await probePasses(status)).toBe(true);
  });

  test.each([404, 500, 503])('%d is not healthy', async (status) => {
    expect(await probePasses(status)).toBe(false);
  });

  test('a redirect is not followed: the probe asks only the instance itself', () => {
    const check = InstanceHealthCheck.http({ port: 8080 });
    expect(check._linuxProbe).not.toMatch(/--location|-L\b/);
    expect(check._windowsProbe).toContain('$q.AllowAutoRedirect = $false');
  });
});
