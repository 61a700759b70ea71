import { IncomingMessage, request } from 'node:http';

export interface StreamedEvent {
  id?: string;
  event: string;
  data: Record<string, unknown>;
}

/** A client of `GET /admin/cache/events` that parses what arrives; `pause()` makes it a slow reader. */
export class EventStreamClient {
  readonly events: StreamedEvent[] = [];
  private buffer = '';
  private waiters: (() => void)[] = [];

  private constructor(
    readonly response: IncomingMessage,
    private readonly abort: () => void,
  ) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => this.receive(chunk));
  }

  static open(url: string, token: string): Promise<EventStreamClient> {
    return new Promise((resolve, reject) => {
      const req = request(`${url}/admin/cache/events`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
        resolve(new EventStreamClient(res, () => req.destroy()));
      });
      req.on('error', reject);
      req.end();
    });
  }

  pause(): void {
    this.response.pause();
  }

  resume(): void {
    this.response.resume();
  }

  /** Resolves once `predicate` holds for the events received so far (bounded by `timeoutMs`). */
  async until(predicate: (events: StreamedEvent[]) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.events)) {
      if (Date.now() > deadline) throw new Error(`event stream: no ${what} within ${timeoutMs} ms (got ${this.events.length} events)`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  close(): void {
    this.abort();
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      let data = '';
      let id: string | undefined;
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
        else if (line.startsWith('id: ')) id = line.slice(4);
      }
      if (data !== '') this.events.push({ id, event, data: JSON.parse(data) as Record<string, unknown> });
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
