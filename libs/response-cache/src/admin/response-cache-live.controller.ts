import {
  BeforeApplicationShutdown,
  Controller,
  Get,
  HttpException,
  HttpStatus,
  Inject,
  OnModuleDestroy,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { CacheEvents } from '../observability/cache-events';
import { RESPONSE_CACHE_OPTIONS } from '../response-cache.constants';
import type { ResolvedCacheOptions } from '../options/resolve-options';
import { AdminTokenGuard } from './admin-token.guard';
import { DASHBOARD_HTML } from './dashboard.html';
import { EventStream, EventStreamState } from './event-stream';

/** Express hands over the Node response; Fastify a reply around it, which must be hijacked. */
interface FastifyReplyLike {
  raw: ServerResponse;
  hijack(): void;
}

function rawResponse(res: ServerResponse | FastifyReplyLike): ServerResponse {
  if ('hijack' in res && typeof res.hijack === 'function') {
    res.hijack();
    return res.raw;
  }
  return res as ServerResponse;
}

/**
 * The live side of the admin API: `GET /admin/cache/events` (Server-Sent Events, behind the token)
 * and `GET /admin/cache/dashboard` (a static page holding no data; it asks for the token and
 * sends it with each of its API calls).
 */
@Controller('admin/cache')
export class ResponseCacheLiveController implements OnModuleDestroy, BeforeApplicationShutdown {
  private readonly streams = new Set<EventStream>();

  constructor(
    @Inject(RESPONSE_CACHE_OPTIONS) private readonly options: ResolvedCacheOptions,
    private readonly events: CacheEvents,
  ) {}

  @Get('events')
  @UseGuards(AdminTokenGuard)
  stream(@Res() res: ServerResponse | FastifyReplyLike): void {
    const limits = this.options.eventStream;
    if (this.streams.size >= limits.maxClients) {
      throw new HttpException(`at most ${limits.maxClients} event streams at a time; close one and retry`, HttpStatus.TOO_MANY_REQUESTS);
    }
    const raw = rawResponse(res);
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-store, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const stream = new EventStream(raw, limits, this.options.clock);
    const unsubscribe = this.events.subscribe((event) => stream.push(event));
    this.streams.add(stream);
    raw.once('close', () => {
      unsubscribe();
      stream.close();
      this.streams.delete(stream);
    });
  }

  @Get('dashboard')
  dashboard(@Res() res: ServerResponse | FastifyReplyLike): void {
    const raw = rawResponse(res);
    raw.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy':
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    raw.end(DASHBOARD_HTML);
  }

  /** Each open stream's buffers, for tests and diagnostics. */
  streamStates(): EventStreamState[] {
    return [...this.streams].map((s) => s.state);
  }

  onModuleDestroy(): void {
    this.closeStreams();
  }

  beforeApplicationShutdown(): void {
    this.closeStreams();
  }

  private closeStreams(): void {
    for (const stream of this.streams) stream.close();
    this.streams.clear();
  }
}
