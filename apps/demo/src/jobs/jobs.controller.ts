import { Body, Controller, Get, Param, Patch, Post, Req, UseGuards } from '@nestjs/common';
import { CacheRequestContext, Cacheable, InvalidateTags } from 'nestjs-response-cache';
import { DemoDatabase } from '../data/demo-database';
import { IdPipe } from '../data/id.pipe';
import { BearerUserGuard, DemoUser } from './bearer-user.guard';

/** The tag of one user's job list. */
function ownerJobsTag(ctx: CacheRequestContext): string {
  return `jobs:owner:${ctx.context.switchToHttp().getRequest<{ user: DemoUser }>().user.id}`;
}

@Controller('api/jobs')
@UseGuards(BearerUserGuard)
export class JobsController {
  constructor(private readonly db: DemoDatabase) {}

  @Get()
  @Cacheable({ scope: 'user', ttl: 60, tags: [ownerJobsTag] })
  async list(@Req() request: { user: DemoUser }) {
    return { jobs: await this.db.listJobs(request.user.id) };
  }

  @Get(':id')
  @Cacheable({ scope: 'user', ttl: 60, tags: ['job:{id}'] })
  async get(@Req() request: { user: DemoUser }, @Param('id', IdPipe) id: number) {
    return { job: await this.db.getJob(request.user.id, id) };
  }

  @Post()
  @InvalidateTags(ownerJobsTag)
  async create(@Req() request: { user: DemoUser }, @Body() body: unknown) {
    return { job: await this.db.createJob(request.user.id, body) };
  }

  @Patch(':id/status')
  @InvalidateTags('job:{id}', ownerJobsTag)
  async setStatus(@Req() request: { user: DemoUser }, @Param('id', IdPipe) id: number, @Body() body: unknown) {
    return { job: await this.db.setJobStatus(request.user.id, id, body) };
  }
}
