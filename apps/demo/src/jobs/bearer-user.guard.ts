import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';

/** What the demo's guard attaches to the request: the verified caller. */
export interface DemoUser {
  id: string;
}

const USER = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The demo's stand-in for real authentication: `Authorization: Bearer <user>` and the token is
 * the user name. It sets `request.user.id`, which the cache's default identity resolver reads.
 */
@Injectable()
export class BearerUserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; user?: DemoUser }>();
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (match === null || !USER.test(match[1])) {
      throw new UnauthorizedException('send Authorization: Bearer <user name> (letters, digits, . _ -)');
    }
    request.user = { id: match[1] };
    return true;
  }
}
