import { StreamableFile } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * The little the cache needs of a request and its response, the same on Express and Fastify.
 */
export interface HttpExchange {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  /** Path without the query string, as received. */
  readonly path: string;
  readonly query: Record<string, unknown>;
  readonly params: Record<string, string>;
  /** Route pattern (`/api/users/:id`), for metrics and logs. */
  readonly route: string;
  status(): number;
  setStatus(code: number): void;
  getHeader(name: string): string | undefined;
  setHeader(name: string, value: string): void;
  /** Names (lower-case) of the response headers set so far. */
  headerNames(): string[];
  /** What the platform sends as these bytes unchanged (Nest would serialize a Buffer as JSON on Express). */
  bytes(body: Buffer): unknown;
}

interface ExpressRequest {
  method: string;
  headers: IncomingHttpHeaders;
  path: string;
  query: Record<string, unknown>;
  params: Record<string, string>;
  route?: { path?: string };
  baseUrl?: string;
}

interface ExpressResponse {
  statusCode: number;
  getHeaderNames(): string[];
  getHeader(name: string): number | string | string[] | undefined;
  setHeader(name: string, value: string): void;
}

interface FastifyRequest {
  raw: unknown;
  method: string;
  headers: IncomingHttpHeaders;
  url: string;
  query: Record<string, unknown>;
  params: Record<string, string>;
  routeOptions?: { url?: string };
}

interface FastifyReply {
  statusCode: number;
  code(code: number): unknown;
  header(name: string, value: string): unknown;
  getHeader(name: string): number | string | string[] | undefined;
  getHeaders(): Record<string, unknown>;
  raw: { getHeader(name: string): number | string | string[] | undefined; getHeaderNames(): string[] };
}

function headerValue(value: number | string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : String(value);
}

class ExpressExchange implements HttpExchange {
  constructor(
    private readonly req: ExpressRequest,
    private readonly res: ExpressResponse,
  ) {}
  get method(): string {
    return this.req.method;
  }
  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }
  get path(): string {
    return (this.req.baseUrl ?? '') + this.req.path;
  }
  get query(): Record<string, unknown> {
    return this.req.query ?? {};
  }
  get params(): Record<string, string> {
    return this.req.params ?? {};
  }
  get route(): string {
    return (this.req.baseUrl ?? '') + (this.req.route?.path ?? '');
  }
  status(): number {
    return this.res.statusCode;
  }
  setStatus(code: number): void {
    this.res.statusCode = code;
  }
  getHeader(name: string): string | undefined {
    return headerValue(this.res.getHeader(name));
  }
  headerNames(): string[] {
    return this.res.getHeaderNames();
  }
  setHeader(name: string, value: string): void {
    this.res.setHeader(name, value);
  }
  bytes(body: Buffer): unknown {
    return new StreamableFile(body, { length: body.length });
  }
}

class FastifyExchange implements HttpExchange {
  constructor(
    private readonly req: FastifyRequest,
    private readonly reply: FastifyReply,
  ) {}
  get method(): string {
    return this.req.method;
  }
  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }
  get path(): string {
    const url = this.req.url;
    const q = url.indexOf('?');
    return q === -1 ? url : url.slice(0, q);
  }
  get query(): Record<string, unknown> {
    return this.req.query ?? {};
  }
  get params(): Record<string, string> {
    return this.req.params ?? {};
  }
  get route(): string {
    return this.req.routeOptions?.url ?? '';
  }
  status(): number {
    return this.reply.statusCode;
  }
  setStatus(code: number): void {
    this.reply.code(code);
  }
  getHeader(name: string): string | undefined {
    return headerValue(this.reply.getHeader(name) ?? this.reply.raw.getHeader(name));
  }
  headerNames(): string[] {
    return [...new Set([...Object.keys(this.reply.getHeaders()), ...this.reply.raw.getHeaderNames()].map((n) => n.toLowerCase()))];
  }
  setHeader(name: string, value: string): void {
    this.reply.header(name, value);
  }
  bytes(body: Buffer): unknown {
    return body;
  }
}

/** Wraps the platform request/response pair (Fastify requests carry `raw`; Express ones do not). */
/** A request header as one string (repeated fields joined, as RFC 9110 §5.3 combines them). */
export function headerString(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

export function httpExchange(request: unknown, response: unknown): HttpExchange {
  return (request as { raw?: unknown }).raw !== undefined
    ? new FastifyExchange(request as FastifyRequest, response as FastifyReply)
    : new ExpressExchange(request as ExpressRequest, response as ExpressResponse);
}

/** True when the request announces a body (a GET with a body is never cached). */
export function hasRequestBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined;
}
