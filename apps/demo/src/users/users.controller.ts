import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { Cacheable, InvalidateTags } from 'nestjs-response-cache';
import { DemoDatabase } from '../data/demo-database';
import { IdPipe } from '../data/id.pipe';

@Controller('api/users')
export class UsersController {
  constructor(private readonly db: DemoDatabase) {}

  @Get()
  @Cacheable({ tags: ['users'] })
  async list() {
    return { users: await this.db.listUsers() };
  }

  @Get(':id')
  @Cacheable({ tags: ['users', 'user:{id}'] })
  async get(@Param('id', IdPipe) id: number) {
    return { user: await this.db.getUser(id) };
  }

  @Post()
  @InvalidateTags('users')
  async create(@Body() body: unknown) {
    return { user: await this.db.createUser(body) };
  }

  @Put(':id')
  @InvalidateTags('users', 'user:{id}')
  async update(@Param('id', IdPipe) id: number, @Body() body: unknown) {
    return { user: await this.db.updateUser(id, body) };
  }

  /** Their posts go too (the foreign key cascades), so the posts tag is invalidated with the user's. */
  @Delete(':id')
  @HttpCode(204)
  @InvalidateTags('users', 'user:{id}', 'posts')
  async remove(@Param('id', IdPipe) id: number): Promise<void> {
    await this.db.deleteUser(id);
  }
}
