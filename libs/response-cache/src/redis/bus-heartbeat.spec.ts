import { AddressInfo, Server, Socket, createConnection, createServer } from 'node:net';
import { BusHeartbeat } from './bus-heartbeat';
import type { RedisClient } from './redis-client';

/** A client whose PING is a real round trip to a local echo server (its answer is I/O, as Redis's is). */
function client(socket: Socket): RedisClient {
  const waiting: (() => void)[] = [];
  // One byte out per PING, one byte back per answer (answers may arrive together in one chunk).
  socket.on('data', (chunk: Buffer) => {
    for (let i = 0; i < chunk.length; i++) waiting.shift()?.();
  });
  return {
    status: 'ready',
    ping: () =>
      new Promise<string>((resolve) => {
        waiting.push(() => resolve('PONG'));
        socket.write('p');
      }),
  } as unknown as RedisClient;
}

const block = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when `socket` has closed (at once if it already has). */
const closed = (socket: Socket) => new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));

describe('BusHeartbeat', () => {
  let server: Server;
  let socket: Socket;
  const peers: Socket[] = [];
  beforeAll(async () => {
    server = createServer((peer) => {
      peers.push(peer);
      // A socket without an 'error' listener throws its error (ECONNRESET when the other end goes
      // away with an answer still unread) as an uncaught exception that fails whichever test runs.
      peer.on('error', () => undefined);
      peer.on('data', (chunk) => peer.write(chunk));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    socket = createConnection((server.address() as AddressInfo).port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
  });
  afterAll(async () => {
    // Both ends end politely and are waited for: nothing is torn down with bytes in flight.
    socket.end();
    for (const peer of peers) peer.end();
    await Promise.all([socket, ...peers].map(closed));
    await new Promise((resolve) => server.close(resolve));
  });

  it('reports a stall when a PING stays unanswered past the timeout, and recovery on the next answer', async () => {
    jest.useFakeTimers(); // performance.now, setInterval and setImmediate alike
    const events: string[] = [];
    let answer: ((pong: string) => void) | undefined;
    const hung = { status: 'ready', ping: () => new Promise<string>((resolve) => (answer = resolve)) } as unknown as RedisClient;
    const heartbeat = new BusHeartbeat({
      client: hung,
      intervalMs: 5,
      timeoutMs: 20,
      onStall: () => events.push('stall'),
      onRecover: () => events.push('recover'),
    });
    try {
      await jest.advanceTimersByTimeAsync(20);
      expect(events).toEqual([]); // not yet past the timeout
      await jest.advanceTimersByTimeAsync(80);
      expect(events).toEqual(['stall']);
      expect(heartbeat.healthy).toBe(false);
      answer?.('PONG'); // the server answers again
      await jest.advanceTimersByTimeAsync(0);
      expect(events).toEqual(['stall', 'recover']);
      expect(heartbeat.healthy).toBe(true);
    } finally {
      heartbeat.stop();
      jest.useRealTimers();
    }
  });

  it('a process too busy to read the answer in time is not a stall: it never flushes its L1 for its own lag', async () => {
    const events: string[] = [];
    const heartbeat = new BusHeartbeat({
      client: client(socket),
      intervalMs: 5,
      timeoutMs: 20,
      onStall: () => events.push('stall'),
      onRecover: () => events.push('recover'),
    });
    try {
      for (let i = 0; i < 10; i++) {
        await sleep(6); // a PING goes out
        block(60); // the answer arrives while this process is busy for three timeouts
      }
      await sleep(50);
      expect(events).toEqual([]);
      expect(heartbeat.healthy).toBe(true);
    } finally {
      heartbeat.stop();
    }
  });
});
