import { BadRequestException, PipeTransform } from '@nestjs/common';

/** Route ids are positive whole numbers; anything else is a 400 that says so. */
export class IdPipe implements PipeTransform<string, number> {
  transform(value: string): number {
    if (!/^[1-9]\d{0,8}$/.test(value)) throw new BadRequestException(`id must be a positive whole number, got "${value}"`);
    return Number(value);
  }
}
