import { Duration } from 'aws-cdk-lib';
import { known, optionError } from '../../internal/errors';

/**
 * Options shared by every instance health check.
 */
export interface InstanceHealthCheckOptions {
  /**
   * How long the instance keeps probing before it gives up and reports itself failed.
   *
   * Counted from the moment its user data reaches the health check.
   *
   * @default Duration.minutes(10)
   */
  readonly timeout?: Duration;
}

/**
 * Options for `InstanceHealthCheck.http()`.
 */
export interface HttpInstanceHealthCheckOptions extends InstanceHealthCheckOptions {
  /**
   * The port the application listens on, on the instance itself.
   */
  readonly port: number;

  /**
   * The path to request. Any 2xx or 3xx answer counts as healthy; a redirect is not followed (its
   * 3xx is the answer), as with a load balancer's health check.
   *
   * @default '/'
   */
  readonly path?: string;
}

const DEFAULT_TIMEOUT = Duration.minutes(10);
// No quote of any kind: the path is embedded in single quotes in bash and PowerShell.
const SAFE_PATH = /^\/[A-Za-z0-9\-._~!$&()*+,;=:@%/?]*$/;

/**
 * What a healthy instance answers, checked on the instance itself before it reports to
 * CloudFormation (or to its Auto Scaling lifecycle hook) that it is ready.
 *
 * An instance probes itself every 5 seconds until the check passes or its timeout runs out,
 * then reports success or failure. The probe runs on `127.0.0.1` and needs no packages beyond
 * the base image (`curl` and bash on Linux, PowerShell on Windows).
 */
export class InstanceHealthCheck {
  /**
   * Healthy when an HTTP GET of `http://127.0.0.1:<port><path>` answers 2xx or 3xx. Redirects are
   * not followed: an application that redirects to HTTPS or to a login page is healthy when it
   * answers with the redirect, whatever the target would answer.
   */
  public static http(options: HttpInstanceHealthCheckOptions): InstanceHealthCheck {
    const factory = 'InstanceHealthCheck.http()';
    const port = validatePort(factory, options.port);
    const path = options.path ?? '/';
    if (known(path) && !SAFE_PATH.test(path)) {
      throw optionError(factory, {
        prop: `path '${path}'`,
        problem: 'must start with \'/\' and contain only URL characters (no spaces or quotes)',
        fix: 'Pass a path such as \'/health\'.',
      });
    }
    const url = `http://127.0.0.1:${port}${path}`;
    return new InstanceHealthCheck(
      `HTTP GET ${url}`,
      // No --location: curl does not follow redirects, and --fail fails on 400 and above only
      // (https://curl.se/docs/manpage.html#-f), so 2xx and 3xx pass.
      `curl --silent --show-error --fail --max-time 5 --output /dev/null '${url}'`,
      // AllowAutoRedirect off: GetResponse returns a 3xx as it is, and throws on 400 and above
      // (https://learn.microsoft.com/en-us/dotnet/api/system.net.httpwebrequest.allowautoredirect).
      `try { $q = [System.Net.WebRequest]::Create('${url}'); $q.AllowAutoRedirect = $false; $q.Timeout = 5000; `
        + '$r = $q.GetResponse(); $c = [int]$r.StatusCode; $r.Close(); ($c -ge 200) -and ($c -lt 400) } catch { $false }',
      timeoutOf(factory, options),
    );
  }

  /**
   * Healthy when a TCP connection to `127.0.0.1:<port>` opens.
   */
  public static tcp(port: number, options: InstanceHealthCheckOptions = {}): InstanceHealthCheck {
    const factory = 'InstanceHealthCheck.tcp()';
    const p = validatePort(factory, port);
    return new InstanceHealthCheck(
      `TCP connect 127.0.0.1:${p}`,
      `timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${p}'`,
      `try { $c = New-Object System.Net.Sockets.TcpClient; $ok = $c.ConnectAsync('127.0.0.1', ${p}).Wait(5000); $c.Close(); $ok } catch { $false }`,
      timeoutOf(factory, options),
    );
  }

  /**
   * Healthy when a command exits with status 0.
   *
   * On Linux the command runs with bash; on Windows it is a PowerShell script block, healthy
   * when it returns a true value without throwing.
   *
   * @param command the command to run, for example `systemctl is-active --quiet my-app`
   */
  public static command(command: string, options: InstanceHealthCheckOptions = {}): InstanceHealthCheck {
    const factory = 'InstanceHealthCheck.command()';
    if (known(command) && command.trim() === '') {
      throw optionError(factory, { prop: 'command', problem: 'is empty', fix: 'Pass the command whose exit status 0 means healthy.' });
    }
    return new InstanceHealthCheck(`command ${command}`, command, command, timeoutOf(factory, options));
  }

  /**
   * No application check: the instance reports ready as soon as its user data has run.
   *
   * Use it only for instances with nothing to probe; a broken application still counts as healthy.
   */
  public static none(): InstanceHealthCheck {
    return new InstanceHealthCheck('none', 'true', '$true', Duration.seconds(0));
  }

  /** How long the instance keeps probing before it reports failure. */
  public readonly timeout: Duration;

  /** A human-readable summary of the probe, for example `HTTP GET http://127.0.0.1:8080/health`. */
  public readonly description: string;

  /** @internal */
  public readonly _linuxProbe: string;

  /** @internal */
  public readonly _windowsProbe: string;

  private constructor(description: string, linuxProbe: string, windowsProbe: string, timeout: Duration) {
    this.description = description;
    this._linuxProbe = linuxProbe;
    this._windowsProbe = windowsProbe;
    this.timeout = timeout;
  }
}

function timeoutOf(factory: string, options: InstanceHealthCheckOptions): Duration {
  const timeout = options.timeout ?? DEFAULT_TIMEOUT;
  if (known(timeout) && timeout.toSeconds() < 5) {
    throw optionError(factory, { prop: 'timeout', value: timeout, problem: 'is shorter than one probe interval', fix: 'Pass at least Duration.seconds(5).' });
  }
  return timeout;
}

function validatePort(factory: string, port: number): number {
  if (known(port) && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    throw optionError(factory, { prop: 'port', value: port, problem: 'is not a TCP port', fix: 'Pass an integer from 1 to 65535.' });
  }
  return port;
}
