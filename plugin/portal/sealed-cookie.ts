import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KeyRing } from '../../src/crypto/index.ts';

/**
 * State the portal keeps in the browser: JSON sealed with the node's seed key ring (AES-256-GCM,
 * the cookie's purpose as associated data), so every node reads it and no one can forge or read
 * it. HttpOnly, SameSite=Strict, path /portal, and Secure on https.
 */
export class SealedCookie<T extends { exp: number }> {
  constructor(
    private readonly keyring: KeyRing,
    readonly name: string,
    private readonly lifetimeMs: number,
    private readonly secure: boolean,
  ) {}

  read(request: FastifyRequest, now = Date.now()): T | null {
    const raw = request.cookies[this.name];
    if (!raw || raw.length > 4096) return null;
    const opened = this.keyring.open(raw, `portal:${this.name}`);
    if (!opened) return null;
    try {
      const value = JSON.parse(opened.toString('utf8')) as T;
      return typeof value.exp === 'number' && value.exp > now ? value : null;
    } catch {
      return null;
    }
  }

  write(reply: FastifyReply, value: Omit<T, 'exp'>, now = Date.now()): void {
    const full = { ...value, exp: now + this.lifetimeMs };
    const sealed = this.keyring.seal(Buffer.from(JSON.stringify(full)), `portal:${this.name}`);
    reply.setCookie(this.name, sealed, {
      path: '/portal',
      httpOnly: true,
      sameSite: 'strict',
      secure: this.secure,
      maxAge: Math.floor(this.lifetimeMs / 1000),
    });
  }

  clear(reply: FastifyReply): void {
    reply.clearCookie(this.name, {
      path: '/portal',
      httpOnly: true,
      sameSite: 'strict',
      secure: this.secure,
    });
  }
}
