import { AddressInfo, Server, Socket, createConnection, createServer } from 'node:net';
import { BusHeartbeat } from './bus-heartbeat';
import type { RedisClient } from './redis.store';

/** A client whose PING is a real round trip to a local echo server (its answer is I/O, as Redis's is). */
function client(socket: Socket): RedisClient {
  const waiting: (() => void)[] = [];
  socket.on('data', () => waiting.shift()?.());
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

describe('BusHeartbeat', () => {
  let server: Server;
  let socket: Socket;
  beforeAll(async () => {
    server = createServer((peer) => peer.on('data', (chunk) => peer.write(chunk)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    socket = createConnection((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
  });
  afterAll(async () => {
    socket.destroy();
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
