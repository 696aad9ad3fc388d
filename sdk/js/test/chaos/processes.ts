// Real Herald nodes and a real redis-server for the chaos tests: started on free loopback ports, killed with
// SIGKILL, restarted on the same port and data, and always stopped at the end.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort, freeUdpPort } from '../ports';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const dll = join(repo, 'src/Herald/bin/Debug/net10.0/herald.dll');

/** A folder removed by `removeTemp`. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeTemp(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

async function waitFor(check: () => Promise<boolean>, ms: number, what: string, log: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    let ok = false;
    try {
      ok = await check();
    } catch (error) {
      // A process that exited is final; a refused or slow request only means "not yet".
      if (/exited with/.test((error as Error).message)) throw error;
    }
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One Herald process that keeps its ports (and data) across kills and restarts. */
export class HeraldNode {
  private process?: ChildProcess;
  private exited?: Promise<void>;
  /** Everything the node wrote, over all its runs. */
  readonly log: string[] = [];
  starts = 0;

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly args: string[],
  ) {}

  static async create(name: string, args: string[]): Promise<HeraldNode> {
    const port = await freeTcpPort();
    const udp = await freeUdpPort();
    return new HeraldNode(name, port, ['--host', '127.0.0.1', '--port', String(port), '--udp-port', String(udp), ...args]);
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  get http(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return !!this.process && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Starts the process and waits for /health; a process that exits at once (say, its port not free yet) is tried again. */
  async start(): Promise<void> {
    this.starts++;
    for (let attempt = 1; ; attempt++) {
      this.log.push(`--- ${this.name} start ${this.starts}${attempt > 1 ? ` (attempt ${attempt})` : ''}\n`);
      const child = spawn('dotnet', [dll, 'serve', ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
      this.process = child;
      this.exited = new Promise((r) => child.once('exit', () => r()));
      child.stdout!.on('data', (d) => this.log.push(String(d)));
      child.stderr!.on('data', (d) => this.log.push(String(d)));
      try {
        await waitFor(
          async () => {
            if (child.exitCode !== null) throw new Error(`${this.name} exited with ${child.exitCode}`);
            return (await fetch(`${this.http}/health`, { signal: AbortSignal.timeout(1000) })).status === 200;
          },
          60000,
          `${this.name} did not answer /health`,
          () => this.log.join(''),
        );
        return;
      } catch (error) {
        if (child.exitCode === null || attempt === 3) throw new Error(`${(error as Error).message}\n${this.log.join('').slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** `kill -9`: no shutdown, no close frames, nothing flushed that was not committed. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.log.push(`--- ${this.name} SIGKILL\n`);
    this.process!.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.process!.kill('SIGTERM');
    const timer = setTimeout(() => this.process?.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Lines logged at error or critical level. */
  errors(): string[] {
    return this.log
      .join('')
      .split('\n')
      .filter((line) => /(^| )(fail|crit): /.test(line));
  }
}

/** A redis-server on a free loopback port, without persistence (it is never killed in these tests). */
export class RedisServer {
  private process?: ChildProcess;
  private exited?: Promise<void>;
  readonly log: string[] = [];

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    if (spawnSync('redis-server', ['--version']).error) {
      throw new Error('redis-server is not installed: run the repository test.sh (it installs it) or apt-get install redis-server');
    }
    const server = new RedisServer(await freeTcpPort());
    const child = spawn('redis-server', ['--port', String(server.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.process = child;
    server.exited = new Promise((r) => child.once('exit', () => r()));
    child.stdout!.on('data', (d) => server.log.push(String(d)));
    child.stderr!.on('data', (d) => server.log.push(String(d)));
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
        return server.log.join('').includes('Ready to accept connections');
      },
      10000,
      'redis-server did not start',
      () => server.log.join(''),
    );
    return server;
  }

  async stop(): Promise<void> {
    if (!this.process || this.process.exitCode !== null) return;
    this.process.kill('SIGKILL');
    await this.exited;
  }
}
