import { BadRequestException, Body, Controller, Put, UseGuards } from '@nestjs/common';
import { AdminTokenGuard } from 'nestjs-response-cache';
import { DemoDatabase } from '../data/demo-database';

/** Changes the simulated data layer at run time, to watch the cache at work (admin token). */
@Controller('admin/demo')
@UseGuards(AdminTokenGuard)
export class DemoAdminController {
  constructor(private readonly db: DemoDatabase) {}

  @Put('db')
  update(@Body() body: unknown) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestException('the body must be a JSON object');
    const { latencyMs, failureRate } = body as Record<string, unknown>;
    if (latencyMs !== undefined && (typeof latencyMs !== 'number' || !Number.isFinite(latencyMs) || latencyMs < 0 || latencyMs > 60_000)) {
      throw new BadRequestException('"latencyMs" must be a number from 0 to 60000');
    }
    if (failureRate !== undefined && (typeof failureRate !== 'number' || !(failureRate >= 0 && failureRate <= 1))) {
      throw new BadRequestException('"failureRate" must be a number from 0 to 1');
    }
    if (latencyMs !== undefined) this.db.settings.latencyMs = latencyMs;
    if (failureRate !== undefined) this.db.settings.failureRate = failureRate;
    return { latencyMs: this.db.settings.latencyMs, failureRate: this.db.settings.failureRate };
  }
}
