// Seeding a started node through its admin API: the same calls an operator makes.

export type ClientKind = 'radius' | 'keycloak' | 'api';

export interface SeedToken {
  type: 'totp' | 'hotp';
  /** Base32; known to the test so it can compute codes. */
  secret: string;
  algorithm?: 'SHA1' | 'SHA256' | 'SHA512';
  digits?: 6 | 8;
  period?: 30 | 60;
  counter?: number;
}

export interface SeedUser {
  username: string;
  pin?: string;
  email?: string;
  tokens?: SeedToken[];
}

async function adminCall(baseUrl: string, adminKey: string, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
}

/** Creates a client and answers its API key (shown once). */
export async function createClient(
  baseUrl: string,
  adminKey: string,
  name: string,
  kind: ClientKind,
): Promise<string> {
  const answer = (await adminCall(baseUrl, adminKey, '/v1/admin/clients', { name, kind })) as {
    apiKey?: unknown;
  };
  if (typeof answer.apiKey !== 'string') throw new Error(`client "${name}" was created without a key`);
  return answer.apiKey;
}

export async function seedUsers(
  baseUrl: string,
  adminKey: string,
  users: readonly SeedUser[],
): Promise<void> {
  for (const { tokens, ...user } of users) {
    await adminCall(baseUrl, adminKey, '/v1/admin/users', user);
    for (const token of tokens ?? []) {
      await adminCall(
        baseUrl,
        adminKey,
        `/v1/admin/users/${encodeURIComponent(user.username)}/tokens`,
        token,
      );
    }
  }
}
