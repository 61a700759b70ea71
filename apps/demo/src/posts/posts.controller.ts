import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { Cacheable, InvalidateTags } from 'nestjs-response-cache';
import { DemoDatabase } from '../data/demo-database';
import { IdPipe } from '../data/id.pipe';

function positive(name: string, raw: unknown, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d{1,6}$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new BadRequestException(`"${name}" must be a whole number from 1 to ${max}`);
  }
  return Number(raw);
}

/** The posts on a page of the list: a write to one of them (or the admin API's invalidation of `post:3`) drops the pages that hold it. */
function postsOnPage(page: { posts: readonly { id: number }[] }): string[] {
  return page.posts.map((post) => `post:${post.id}`);
}

@Controller('api/posts')
export class PostsController {
  constructor(private readonly db: DemoDatabase) {}

  @Get()
  @Cacheable({ tags: ['posts'], resultTags: postsOnPage })
  async list(@Query('page') pageRaw?: unknown, @Query('limit') limitRaw?: unknown, @Query('authorId') authorRaw?: unknown) {
    const page = positive('page', pageRaw, 1, 100_000);
    const limit = positive('limit', limitRaw, 10, 100);
    const authorId = authorRaw === undefined ? undefined : positive('authorId', authorRaw, 0, 1_000_000_000);
    const { posts, total } = await this.db.listPosts(page, limit, authorId);
    return { posts, page, limit, total };
  }

  @Get(':id')
  @Cacheable({ tags: ['posts', 'post:{id}'] })
  async get(@Param('id', IdPipe) id: number) {
    return { post: await this.db.getPost(id) };
  }

  @Post()
  @InvalidateTags('posts')
  async create(@Body() body: unknown) {
    return { post: await this.db.createPost(body) };
  }

  @Put(':id')
  @InvalidateTags('posts', 'post:{id}')
  async update(@Param('id', IdPipe) id: number, @Body() body: unknown) {
    return { post: await this.db.updatePost(id, body) };
  }

  @Delete(':id')
  @HttpCode(204)
  @InvalidateTags('posts', 'post:{id}')
  async remove(@Param('id', IdPipe) id: number): Promise<void> {
    await this.db.deletePost(id);
  }
}
