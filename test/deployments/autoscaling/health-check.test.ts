/**
 * InstanceHealthCheck.http() does what its documentation says: 2xx and 3xx are healthy, 4xx and 5xx
 * are not, and a redirect is not followed (its 3xx is the answer). The Linux probe is run with bash
 * and curl against a local server. curl follows no redirect without --location, and --fail fails on
 * 400 and above only: https://curl.se/docs/manpage.html#-f
 */
import { execFile } from 'child_process';
import * as http from 'http';
import { AddressInfo } from 'net';
import { Duration } from 'aws-cdk-lib';
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

  test('bad options fail in the factory, naming the prop, the value and what to do', () => {
    expect(() => InstanceHealthCheck.http({ port: 70000 })).toThrow(/port \(70000\) is not a TCP port. Pass an integer from 1 to 65535/);
    expect(() => InstanceHealthCheck.http({ port: 80, path: 'health' })).toThrow(/path 'health' must start with '\/'/);
    expect(() => InstanceHealthCheck.http({ port: 80, path: "/x' ; rm -rf /" })).toThrow(/no spaces or quotes/);
    // a quote alone would close the single-quoted URL in the user data (bash and PowerShell)
    expect(() => InstanceHealthCheck.http({ port: 80, path: "/x';reboot;'" })).toThrow(/path '\/x';reboot;'' must start with '\/' and contain only URL characters \(no spaces or quotes\)/);
    expect(() => InstanceHealthCheck.http({ port: 80, path: '/health?full=1&x=(a)' })).not.toThrow();
    expect(() => InstanceHealthCheck.tcp(0)).toThrow(/^InstanceHealthCheck\.tcp\(\): port \(0\) is not a TCP port/);
    expect(() => InstanceHealthCheck.command(' ')).toThrow(/command is empty/);
    expect(() => InstanceHealthCheck.tcp(80, { timeout: Duration.seconds(1) })).toThrow(/timeout \(1 second\) is shorter than one probe interval/);
  });
});
