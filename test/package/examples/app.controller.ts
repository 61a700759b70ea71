import { Controller, Get, Post } from '@nestjs/common';
import { Cacheable, InvalidateTags } from 'nestjs-response-cache';
import { AppService } from './app.service.js';

/** The AppController of `nest new`, with its GET cached and its POST invalidating it. */
@Controller()
export class AppController {
  constructor(private readonly appService: AppService) {}

  @Get()
  @Cacheable({ ttl: 60, tags: ['hello'] })
  getHello() {
    return this.appService.getHello();
  }

  @Post()
  @InvalidateTags('hello')
  touch() {
    return { touched: true };
  }
}
