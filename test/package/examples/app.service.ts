import { Injectable } from '@nestjs/common';

@Injectable()
export class AppService {
  private reads = 0;

  getHello(): { hello: string; reads: number } {
    return { hello: 'world', reads: ++this.reads };
  }
}
