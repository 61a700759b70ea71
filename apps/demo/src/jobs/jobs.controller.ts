import { Body, Controller, Get, Param, Patch, Post, Req, UseGuards } from '@nestjs/common';
import { Cacheable, InvalidateTags } from 'nestjs-response-cache';
import { DemoDatabase } from '../data/demo-database';
import { IdPipe } from '../data/id.pipe';
import { BearerUserGuard, DemoUser } from './bearer-user.guard';

/** The tag of the caller's job list: `{user}` is the caller's verified identity, hashed. */
const OWN_JOBS = 'jobs:{user}';

@Controller('api/jobs')
@UseGuards(BearerUserGuard)
export class JobsController {
  constructor(private readonly db: DemoDatabase) {}

  @Get()
  @Cacheable({ scope: 'user', ttl: 60, tags: [OWN_JOBS] })
  async list(@Req() request: { user: DemoUser }) {
    return { jobs: await this.db.listJobs(request.user.id) };
  }

  @Get(':id')
  @Cacheable({ scope: 'user', ttl: 60, tags: ['job:{id}'] })
  async get(@Req() request: { user: DemoUser }, @Param('id', IdPipe) id: number) {
    return { job: await this.db.getJob(request.user.id, id) };
  }

  @Post()
  @InvalidateTags(OWN_JOBS)
  async create(@Req() request: { user: DemoUser }, @Body() body: unknown) {
    return { job: await this.db.createJob(request.user.id, body) };
  }

  @Patch(':id/status')
  @InvalidateTags('job:{id}', OWN_JOBS)
  async setStatus(@Req() request: { user: DemoUser }, @Param('id', IdPipe) id: number, @Body() body: unknown) {
    return { job: await this.db.setJobStatus(request.user.id, id, body) };
  }
}
