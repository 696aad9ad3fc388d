// Free loopback ports, chosen by the operating system.
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

export function freeTcpPort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => ok(port));
    });
  });
}

export function freeUdpPort(): Promise<number> {
  return new Promise((ok, fail) => {
    const socket = createSocket('udp4');
    socket.once('error', fail);
    socket.bind(0, '127.0.0.1', () => {
      const port = socket.address().port;
      socket.close(() => ok(port));
    });
  });
}
