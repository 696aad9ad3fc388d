import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { wsUrl } from './helpers';

describe('the built package', () => {
  it('exports the same API as an ES module and as CommonJS', async () => {
    const esm = await import('../dist/index.js');
    const cjs = createRequire(import.meta.url)('../dist/index.cjs');
    for (const mod of [esm, cjs]) {
      expect(typeof mod.Herald).toBe('function');
      expect(typeof mod.Subscription).toBe('function');
      expect(typeof mod.wxTransport).toBe('function');
      expect(typeof mod.uniTransport).toBe('function');
      expect(typeof mod.webSocketTransport).toBe('function');
      expect(mod.PROTOCOL).toBe('herald.v1');
    }
  });

  it('says how to plug in a WebSocket where there is no global one', async () => {
    const { Herald } = await import('../dist/index.js');
    if ((globalThis as { WebSocket?: unknown }).WebSocket) return;
    const c = new Herald('ws://127.0.0.1:1/', { minReconnectDelay: 10_000 });
    const errors: string[] = [];
    c.on('error', (e: Error) => errors.push(e.message));
    c.connect();
    c.disconnect();
    expect(errors[0]).toMatch(/no global WebSocket/);
  });
});

describe('the default transport', () => {
  it('uses the global WebSocket (Node with --experimental-websocket, as browsers and Node 22 have it)', async () => {
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      const { Herald } = await import(${JSON.stringify(dist)});
      const c = new Herald(${JSON.stringify(wsUrl)});
      const sub = c.subscribe('global-ws');
      sub.on('subscribed', () => { console.log(JSON.stringify({ client: c.info.client, state: sub.state })); c.disconnect(); process.exit(0); });
      c.on('error', (e) => { console.error(e.message); process.exit(1); });
      c.connect();
      setTimeout(() => process.exit(2), 5000);`;
    const out = await new Promise<string>((ok, fail) =>
      execFile(process.execPath, ['--experimental-websocket', '--input-type=module', '-e', script], { timeout: 8000 }, (error, stdout, stderr) =>
        error ? fail(new Error(`${error.message}\n${stderr}`)) : ok(stdout),
      ),
    );
    expect(JSON.parse(out)).toMatchObject({ client: expect.any(String), state: 'subscribed' });
  });
});

