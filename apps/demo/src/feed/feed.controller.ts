import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import { Cacheable } from 'nestjs-response-cache';
import { DemoDatabase } from '../data/demo-database';

/** The demo's expensive read: every post joined with its author and its comments, aggregated and ranked. */
@Controller('api/feed')
export class FeedController {
  constructor(private readonly db: DemoDatabase) {}

  /** Author names and post titles appear in it, so a change to either invalidates it. */
  @Get()
  @Cacheable({ tags: ['posts', 'users'] })
  async feed(@Query('limit') limitRaw?: unknown) {
    if (limitRaw !== undefined && (typeof limitRaw !== 'string' || !/^\d{1,3}$/.test(limitRaw) || +limitRaw < 1 || +limitRaw > 100)) {
      throw new BadRequestException('"limit" must be a whole number from 1 to 100');
    }
    const limit = limitRaw === undefined ? 10 : Number(limitRaw);
    return { feed: await this.db.feed(limit), limit };
  }
}
