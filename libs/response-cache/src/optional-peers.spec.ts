import { requireOptionalPeers } from './optional-peers';
import { ResponseCacheError } from './response-cache.errors';

/** Resolves like Node, except that `absent` packages are not installed (MODULE_NOT_FOUND, as Node says). */
const resolverWithout =
  (...absent: string[]) =>
  (request: string): string => {
    if (absent.includes(request)) throw Object.assign(new Error(`Cannot find module '${request}'`), { code: 'MODULE_NOT_FOUND' });
    return require.resolve(request);
  };

describe('requireOptionalPeers', () => {
  it('names the subpath, the missing peer and the command that installs it', () => {
    const load = () => requireOptionalPeers('redis', ['ioredis'], resolverWithout('ioredis'));
    expect(load).toThrow(ResponseCacheError);
    expect(load).toThrow(/^nestjs-response-cache\/redis needs ioredis: npm i ioredis \(optional peer dependency/);
  });

  it('names every missing peer of a subpath, and only those', () => {
    const both = () =>
      requireOptionalPeers(
        'prometheus',
        ['@willsoto/nestjs-prometheus', 'prom-client'],
        resolverWithout('@willsoto/nestjs-prometheus', 'prom-client'),
      );
    expect(both).toThrow(
      'nestjs-response-cache/prometheus needs @willsoto/nestjs-prometheus and prom-client: npm i @willsoto/nestjs-prometheus prom-client',
    );
    const one = () => requireOptionalPeers('prometheus', ['@willsoto/nestjs-prometheus', 'prom-client'], resolverWithout('prom-client'));
    expect(one).toThrow('nestjs-response-cache/prometheus needs prom-client: npm i prom-client ');
  });

  it('passes when the peers are installed, and lets any other resolution error through', () => {
    expect(() => requireOptionalPeers('redis', ['ioredis'])).not.toThrow();
    const broken = () => {
      throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
    };
    expect(() => requireOptionalPeers('redis', ['ioredis'], broken)).toThrow('EACCES');
  });

  it('each subpath checks its peers when imported (test/package shows it on the packed tarball without them)', () => {
    for (const [subpath, peer] of [
      ['redis', 'ioredis'],
      ['terminus', '@nestjs/terminus'],
      ['prometheus', 'prom-client'],
    ]) {
      jest.isolateModules(() => {
        jest.doMock('./optional-peers', () => {
          const actual = jest.requireActual<typeof import('./optional-peers')>('./optional-peers');
          return { requireOptionalPeers: (s: string, peers: string[]) => actual.requireOptionalPeers(s, peers, resolverWithout(peer)) };
        });
        expect(() => jest.requireActual(`./${subpath}/index`)).toThrow(`nestjs-response-cache/${subpath} needs ${peer}: npm i ${peer}`);
      });
    }
  });
});
