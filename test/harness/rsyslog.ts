import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackages } from './debian.ts';
import { freePort, freeUdpPort, StopWaiting, waitFor } from './ports.ts';
import type { TlsMaterial } from './tls.ts';

/**
 * What rsyslog parsed from each message, one line each, fields split by '\t': facility number,
 * severity number, app-name, procid, msgid, structured data, message text. rsyslog fills app-name,
 * msgid and structured data only from a message it parsed as RFC 5424.
 */
export interface ReceivedSyslog {
  facility: number;
  severity: number;
  appName: string;
  procId: string;
  msgId: string;
  structuredData: string;
  msg: string;
  raw: string;
}

export interface RsyslogProcess {
  udpPort: number;
  tcpPort: number;
  /** TLS (RFC 5425) when started with certificates; 0 otherwise. */
  tlsPort: number;
  /** The messages received so far, in arrival order. */
  received(): ReceivedSyslog[];
  /** The whole file rsyslog wrote, for failure messages and secret checks. */
  text(): string;
  stop(): Promise<void>;
}

/**
 * Starts rsyslogd in the foreground, receiving UDP and TCP on free loopback ports, and TLS
 * (GnuTLS driver, the server certificate of `tls`) on a third one when given.
 */
export async function startRsyslog(opts: { tls?: TlsMaterial } = {}): Promise<RsyslogProcess> {
  ensureDebianPackages(opts.tls ? ['rsyslog', 'rsyslog-gnutls'] : ['rsyslog']);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-rsyslog-'));
  const udpPort = await freeUdpPort();
  const tcpPort = await freePort();
  const tlsPort = opts.tls ? await freePort() : 0;
  const t = opts.tls;
  const tlsConf = t
    ? `global(DefaultNetstreamDriverCAFile="${t.caFile}" DefaultNetstreamDriverCertFile="${t.certFile}" DefaultNetstreamDriverKeyFile="${t.keyFile}")
input(type="imtcp" address="127.0.0.1" port="${tlsPort}" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
`
    : '';
  const out = join(dir, 'received.log');
  const conf = join(dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    `global(workDirectory="${dir}")
module(load="imudp")
module(load="imtcp")
input(type="imudp" address="127.0.0.1" port="${udpPort}")
input(type="imtcp" address="127.0.0.1" port="${tcpPort}")
${tlsConf}template(name="fields" type="string"
  string="%syslogfacility%\\t%syslogseverity%\\t%app-name%\\t%procid%\\t%msgid%\\t%structured-data%\\t%msg%\\t%rawmsg%\\n")
*.* action(type="omfile" file="${out}" template="fields")
`,
  );
  const child: ChildProcess = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (d) => (log += String(d)));
  child.stderr?.on('data', (d) => (log += String(d)));
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const text = () => (existsSync(out) ? readFileSync(out, 'utf8') : '');
  try {
    // ready when the TCP input accepts a connection
    await waitFor('rsyslogd listening', async () => {
      if (child.exitCode !== null) throw new StopWaiting(`rsyslogd exited: ${log}`);
      const { connect } = await import('node:net');
      return new Promise<boolean>((resolve) => {
        const s = connect(tcpPort, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    udpPort,
    tcpPort,
    tlsPort,
    text,
    received: () =>
      text()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const [facility, severity, appName, procId, msgId, structuredData, msg, ...raw] = l.split('\t');
          return {
            facility: Number(facility),
            severity: Number(severity),
            appName: appName ?? '',
            procId: procId ?? '',
            msgId: msgId ?? '',
            structuredData: structuredData ?? '',
            msg: msg ?? '',
            raw: raw.join('\t'),
          };
        }),
    stop,
  };
}
