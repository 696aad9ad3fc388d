// Builds Herald once and runs it on free loopback ports for the whole test run.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { freeTcpPort, freeUdpPort } from './ports';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const SECRET = 'herald-js-sdk-tests-secret-0123456789abcdef';

let server: ChildProcess | undefined;

export default async function setup(project: TestProject) {
  // The repo's test.sh builds once and sets HERALD_SKIP_BUILD=1, so SDK suites never build the same project at once.
  if (process.env.HERALD_SKIP_BUILD !== '1') {
    execFileSync('dotnet', ['build', join(repo, 'src/Herald'), '-c', 'Debug', '-v', 'q', '-nologo'], { stdio: 'inherit', timeout: 240000 });
  }
  const port = await freeTcpPort();
  const udpPort = await freeUdpPort();
  const log: string[] = [];
  server = spawn('dotnet', [
    join(repo, 'src/Herald/bin/Debug/net10.0/herald.dll'), 'serve',
    '--host', '127.0.0.1', '--port', String(port), '--udp-port', String(udpPort),
    '--memory', '--token-secret', SECRET,
    '--set', 'client_publish=true',
    '--set', 'ping_interval=2s', '--set', 'pong_timeout=1s',
    '--set', 'namespaces=[{"name":"room","join_leave":true,"join_leave_per_user":false}]',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (d) => log.push(String(d)));
  server.stderr!.on('data', (d) => log.push(String(d)));
  const deadline = Date.now() + 30000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`herald exited with ${server.exitCode}:\n${log.join('')}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`herald did not answer /health within 30 s:\n${log.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  project.provide('heraldPort', port);
  project.provide('heraldUdpPort', udpPort);
  project.provide('heraldSecret', SECRET);
  return async () => {
    if (!server || server.exitCode !== null) return;
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    const timer = setTimeout(() => server!.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    // A test run that made the server log an error or a crash fails, even when every test passed.
    const errors = log.join('').split('\n').filter((line) => /(^| )(fail|crit): /.test(line));
    if (errors.length) throw new Error(`herald logged errors during the tests:\n${errors.join('\n')}`);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    heraldPort: number;
    heraldUdpPort: number;
    heraldSecret: string;
  }
}
