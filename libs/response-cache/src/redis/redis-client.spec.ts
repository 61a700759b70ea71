import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { warnIfNoEviction } from './redis-client';
import type { RedisClient } from './redis-client';

/** A ready standalone client of the server at `host:port` whose CONFIG GET answers `policy`. */
function fakeClient(host: string, policy: string, status = 'ready') {
  const config = jest.fn(async () => ['maxmemory-policy', policy]);
  const client = Object.assign(new EventEmitter(), { status, options: { host, port: 6379 }, config });
  return { client: client as unknown as RedisClient, config, emitter: client };
}

describe('warnIfNoEviction', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => (warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined)));
  afterEach(() => warn.mockRestore());

  it('warns once per server, however many clients and stores check it', async () => {
    const first = fakeClient('10.0.0.1', 'noeviction');
    const second = fakeClient('10.0.0.1', 'noeviction');
    await Promise.all([warnIfNoEviction(first.client), warnIfNoEviction(first.client)]);
    await warnIfNoEviction(second.client);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/^Redis maxmemory-policy is noeviction \(10\.0\.0\.1:6379\)/);
    expect(first.config.mock.calls.length + second.config.mock.calls.length).toBe(1);

    await warnIfNoEviction(fakeClient('10.0.0.2', 'noeviction').client); // another server: its own line
    expect(warn).toHaveBeenCalledTimes(2);
  });

  it('says nothing for an evicting policy or a server that refuses CONFIG', async () => {
    await warnIfNoEviction(fakeClient('10.0.0.3', 'allkeys-lru').client);
    const refusing = fakeClient('10.0.0.4', 'noeviction');
    refusing.config.mockRejectedValueOnce(new Error("ERR unknown command 'CONFIG'"));
    await warnIfNoEviction(refusing.client);
    expect(warn).not.toHaveBeenCalled();
  });

  it('waits for a client that is not ready yet, and checks the first master of a Cluster', async () => {
    const later = fakeClient('10.0.0.5', 'noeviction', 'connecting');
    const checked = warnIfNoEviction(later.client);
    expect(later.config).not.toHaveBeenCalled();
    later.emitter.emit('ready');
    await checked;
    const master = fakeClient('10.0.0.6', 'noeviction').client;
    const cluster = { isCluster: true, status: 'ready', nodes: () => [master] } as unknown as RedisClient;
    await warnIfNoEviction(cluster);
    await warnIfNoEviction(cluster);
    expect(warn.mock.calls.map(([message]) => /\((.*?)\)/.exec(String(message))?.[1])).toEqual(['10.0.0.5:6379', '10.0.0.6:6379']);
  });
});
