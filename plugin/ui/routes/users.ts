import { type TObject, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createUser, publicToken, publicUser, unlockUser, updateUser } from '../../../src/admin/index.ts';
import { searchAudit } from '../../../src/audit/search.ts';
import {
  canonicalUsername,
  DEFAULT_GROUP,
  requireCanonicalUsername,
  TesseraError,
  type User,
} from '../../../src/model/index.ts';
import { inviteUser } from '../../../src/portal/index.ts';
import { deviceConfig, withDeviceState } from '../../../src/push/index.ts';
import { consoleContext, consoleSelfService, fieldAttempt } from '../actor.ts';
import { echo, type FieldErrors, parseForm } from '../forms.ts';
import type { UiFaceOptions } from '../options.ts';
import { enablePushFor } from '../push-bulk.ts';
import { done, may, page } from '../render.ts';
import { lockedNow, loginStats, userCount } from '../stats.ts';

const NAME = '^[^\\s/%{}]{1,128}$';

const Filters = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 128, message: 'Type at most 128 characters.' })),
    group: Type.Optional(Type.String({ maxLength: 128, message: 'Choose a group from the list.' })),
    status: Type.Optional(
      Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], {
        message: 'Choose enabled or disabled.',
      }),
    ),
    source: Type.Optional(Type.String({ maxLength: 128, message: 'Choose a source from the list.' })),
    locked: Type.Optional(Type.Literal('1', { message: 'Tick the box or leave it.' })),
    after: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);

const NewUser = Type.Object(
  {
    username: Type.String({
      minLength: 1,
      maxLength: 128,
      message: 'Enter a username (no spaces, no / % { }).',
    }),
    displayName: Type.Optional(Type.String({ maxLength: 256, message: 'At most 256 characters.' })),
    email: Type.Optional(
      Type.String({
        maxLength: 256,
        pattern: '^[^@\\s]+@[^@\\s]+$',
        message: 'Enter an email address like name@example.org.',
      }),
    ),
    group: Type.Optional(Type.String({ maxLength: 128, message: 'Choose a group from the list.' })),
    pin: Type.Optional(Type.String({ pattern: '^[0-9]{4,12}$', message: 'A PIN is 4 to 12 digits.' })),
  },
  { additionalProperties: false },
);

const PinForm = Type.Object(
  { pin: Type.String({ pattern: '^[0-9]{4,12}$', message: 'A PIN is 4 to 12 digits.' }) },
  { additionalProperties: false },
);
const GroupForm = Type.Object(
  { group: Type.String({ minLength: 1, maxLength: 128, message: 'Choose a group.' }) },
  { additionalProperties: false },
);
const Bulk = Type.Object(
  {
    u: Type.Union(
      [
        Type.String({ pattern: NAME }),
        Type.Array(Type.String({ pattern: NAME }), { minItems: 1, maxItems: 200 }),
      ],
      {
        message: 'Select at least one user (at most 200).',
      },
    ),
    action: Type.Union(
      [
        Type.Literal('enable'),
        Type.Literal('disable'),
        Type.Literal('move'),
        Type.Literal('invite'),
        Type.Literal('push'),
      ],
      { message: 'Choose what to do with the selected users.' },
    ),
    group: Type.Optional(Type.String({ maxLength: 128, message: 'Choose a group.' })),
  },
  { additionalProperties: false },
);

/** Rows a page shows, and the most records one page request reads before it stops and offers "more". */
const PAGE_SIZE = 50;
const MAX_SCAN = 5_000;
const SCAN_BATCH = 250;

interface ListResult {
  rows: User[];
  next: string | null;
  scanned: number;
}

function matches(u: User, f: { group?: string; status?: string; source?: string }): boolean {
  if (f.group && u.group !== f.group) return false;
  if (f.status === 'enabled' && !u.enabled) return false;
  if (f.status === 'disabled' && u.enabled) return false;
  if (f.source === 'local' && u.directory) return false;
  if (f.source && f.source !== 'local' && u.directory?.source !== f.source) return false;
  return true;
}

/**
 * One page of users in name order, from the store's keyset listing (`after` = the last name seen):
 * never an offset, so page 2,000 costs what page 1 costs. Filters are applied while reading; a
 * filter that matches few users reads at most MAX_SCAN records and offers to go on from there.
 */
export async function listPage(
  face: UiFaceOptions,
  prefix: string,
  f: Record<string, string | undefined>,
): Promise<ListResult> {
  const rows: User[] = [];
  let after = f.after;
  let scanned = 0;
  for (;;) {
    const batch = await face.store.listUsers({
      limit: SCAN_BATCH,
      ...(prefix ? { prefix } : {}),
      ...(after ? { after } : {}),
    });
    for (const u of batch.items) {
      scanned++;
      after = u.username;
      if (matches(u, f)) rows.push(u);
      if (rows.length === PAGE_SIZE) break;
    }
    const exhausted = !batch.next && after === batch.items[batch.items.length - 1]?.username;
    if (exhausted || batch.items.length === 0) return { rows, next: null, scanned };
    if (rows.length >= PAGE_SIZE || scanned >= MAX_SCAN) return { rows, next: after ?? null, scanned };
  }
}

async function sources(face: UiFaceOptions): Promise<string[]> {
  const settings = await face.adminContext('console').settings();
  return (settings.directorySources ?? []).map((s) => s.name);
}

export async function userRoutes(app: FastifyInstance, face: UiFaceOptions): Promise<void> {
  const read = { config: { permission: 'users:read' as const } };
  const write = { config: { permission: 'users:write' as const } };

  app.get('/users', read, async (request, reply) => {
    const form = parseForm(Filters, request.query);
    const groups = await face.store.listGroups();
    const base = { groups, sources: await sources(face), filters: echo(request.query) };
    if (!form.ok)
      return page(request, reply.code(400), 'users', 'Users', {
        ...base,
        errors: form.errors,
        rows: [],
        next: null,
      });
    const f = form.value;
    const prefix = f.q ? (canonicalUsername(f.q) ?? '\u0000') : '';
    let result: ListResult;
    if (f.locked) {
      await face.audit.flush();
      const locked = await lockedNow(face.store, (await loginStats(face.store)).lockedCandidates);
      const users = await Promise.all(locked.map((l) => face.store.getUser(l.username)));
      result = {
        rows: users.filter((u): u is User => !!u && u.username.startsWith(prefix) && matches(u, f)),
        next: null,
        scanned: locked.length,
      };
    } else result = await listPage(face, prefix, f);
    const nextQuery = result.next
      ? new URLSearchParams({ ...echo(request.query), after: result.next }).toString()
      : null;
    return page(request, reply, 'users', 'Users', {
      ...base,
      rows: result.rows.map(publicUser),
      next: nextQuery,
      count: await userCount(face.store),
    });
  });

  app.get('/users/new', write, async (request, reply) => newUserPage(request, reply, face, {}));

  app.post('/users', write, async (request, reply) => {
    const form = parseForm(NewUser, request.body);
    const values = echo(request.body, ['pin']);
    if (!form.ok) return newUserPage(request, reply.code(400), face, { errors: form.errors, values });
    const input = form.value;
    const errors = await fieldAttempt('username', () => createUser(consoleContext(face, request), input));
    if (errors) {
      const field = /group/.test(Object.values(errors)[0] ?? '') ? 'group' : 'username';
      return newUserPage(request, reply.code(400), face, {
        errors: { [field]: Object.values(errors)[0]! },
        values,
      });
    }
    return done(
      request,
      reply,
      `/ui/users/${encodeURIComponent(requireCanonicalUsername(input.username))}`,
      'User created.',
    );
  });

  app.post('/users/bulk', write, async (request, reply) => {
    const form = parseForm(Bulk, request.body);
    if (!form.ok) {
      request.consoleSession!.flash = Object.values(form.errors)[0]!;
      return reply.redirect('/ui/users', 303);
    }
    const { action, group } = form.value;
    const names = [form.value.u].flat();
    if (action === 'move' && !group)
      return done(request, reply, '/ui/users', 'Choose the group to move the users to.');
    if (action === 'move' && group !== DEFAULT_GROUP && !(await face.store.getGroup(group!)))
      return done(request, reply, '/ui/users', `Group "${group}" does not exist; nothing was changed.`);
    if (action === 'invite') return done(request, reply, '/ui/users', await inviteAll(face, request, names));
    if (action === 'push')
      return done(request, reply, '/ui/users', await enablePushFor(face, request, names));
    const ctx = consoleContext(face, request);
    let changed = 0;
    const missing: string[] = [];
    for (const name of names) {
      const patch = action === 'move' ? { group: group! } : { enabled: action === 'enable' };
      try {
        await updateUser(ctx, name, patch);
        changed++;
      } catch (err) {
        if (err instanceof TesseraError && err.status < 500) missing.push(name);
        else throw err;
      }
    }
    const verb = action === 'move' ? `moved to ${group}` : `${action}d`;
    return done(
      request,
      reply,
      '/ui/users',
      `${changed} user(s) ${verb}.${missing.length ? ` Not found: ${missing.join(', ')}.` : ''}`,
    );
  });

  app.get<{ Params: { username: string } }>('/users/:username', read, async (request, reply) =>
    userPage(request, reply, face, request.params.username, {}),
  );

  const action = (
    path: string,
    run: (request: FastifyRequest<{ Params: { username: string } }>, username: string) => Promise<string>,
  ) =>
    app.post<{ Params: { username: string } }>(`/users/:username/${path}`, write, async (request, reply) => {
      const username = requireCanonicalUsername(request.params.username);
      const message = await run(request, username);
      return done(request, reply, `/ui/users/${encodeURIComponent(username)}`, message);
    });

  action('unlock', async (request, username) => {
    await unlockUser(consoleContext(face, request), username);
    return 'User unlocked.';
  });
  action('reset-failures', async (request, username) => {
    await unlockUser(consoleContext(face, request), username);
    return 'Failure count reset.';
  });
  action('enable', async (request, username) => {
    await updateUser(consoleContext(face, request), username, { enabled: true });
    return 'User enabled.';
  });
  action('disable', async (request, username) => {
    await updateUser(consoleContext(face, request), username, { enabled: false });
    return 'User disabled: every login is refused until it is enabled again.';
  });
  action('remove-pin', async (request, username) => {
    await updateUser(consoleContext(face, request), username, { pin: null });
    return 'PIN removed.';
  });

  const fieldAction = <S extends TObject>(
    path: string,
    schema: S,
    field: string,
    run: (ctxArgs: {
      request: FastifyRequest;
      username: string;
      value: Record<string, string>;
    }) => Promise<string>,
  ) =>
    app.post<{ Params: { username: string } }>(`/users/:username/${path}`, write, async (request, reply) => {
      const username = requireCanonicalUsername(request.params.username);
      const form = parseForm(schema, request.body);
      if (!form.ok) return userPage(request, reply.code(400), face, username, { errors: form.errors });
      let message = '';
      const errors = await fieldAttempt(field, async () => {
        message = await run({ request, username, value: form.value as Record<string, string> });
      });
      if (errors) return userPage(request, reply.code(400), face, username, { errors });
      return done(request, reply, `/ui/users/${encodeURIComponent(username)}`, message);
    });

  fieldAction('pin', PinForm, 'pin', async ({ request, username, value }) => {
    await updateUser(consoleContext(face, request), username, { pin: value.pin! });
    return 'PIN set.';
  });
  fieldAction('group', GroupForm, 'group', async ({ request, username, value }) => {
    await updateUser(consoleContext(face, request), username, { group: value.group! });
    return `Moved to group ${value.group}.`;
  });
}

/**
 * Sends each selected user an enrolment invitation through the same operation as
 * `POST /v1/admin/users/{username}/invitations` (audited per user). A user without a mail address
 * cannot be invited: reported as skipped, the others are still invited.
 */
async function inviteAll(face: UiFaceOptions, request: FastifyRequest, names: string[]): Promise<string> {
  const ctx = consoleSelfService(face, request);
  let invited = 0;
  let notMailed = 0;
  const noMail: string[] = [];
  const missing: string[] = [];
  for (const name of names) {
    const canonical = canonicalUsername(name);
    const user = canonical ? await face.store.getUser(canonical) : null;
    if (!user) missing.push(name);
    else if (!user.email) noMail.push(user.username);
    else {
      const { mailed } = await inviteUser(ctx, user.username);
      invited++;
      if (!mailed) notMailed++;
    }
  }
  return [
    `${invited} invitation(s) sent.`,
    notMailed ? `${notMailed} could not be queued for mail (is the mailer set up?).` : '',
    noMail.length ? `Skipped (no mail address): ${noMail.join(', ')}.` : '',
    missing.length ? `Not found: ${missing.join(', ')}.` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

async function newUserPage(
  request: FastifyRequest,
  reply: FastifyReply,
  face: UiFaceOptions,
  data: { errors?: FieldErrors; values?: Record<string, string> },
) {
  return page(request, reply, 'user-new', 'New user', { groups: await face.store.listGroups(), ...data });
}

/** The user's page: record, lock state, tokens with their state, last logins. */
export async function userPage(
  request: FastifyRequest,
  reply: FastifyReply,
  face: UiFaceOptions,
  name: string,
  data: Record<string, unknown>,
) {
  const username = requireCanonicalUsername(name);
  const view = await face.store.loadAuthView(username);
  if (!view) throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
  const now = Date.now();
  const settings = await face.adminContext('console').settings();
  // A user's last logins are open to `logins:read` (helpdesk included), not only `audit:read`.
  const canLogins = may(request, 'logins:read');
  if (canLogins) await face.audit.flush();
  const logins = canLogins
    ? (await searchAudit(face.store, { stream: 'auth', user: username, limit: 10 }, 20_000)).items
    : [];
  return page(request, reply, 'user', `User ${username}`, {
    user: publicUser(view.user),
    state: view.userState,
    locked: view.userState.lockedUntil > now,
    tokens: await withDeviceState(
      face.store,
      view.tokens.map((t) => ({
        ...publicToken(t),
        state: view.tokenStates.get(t.serial),
        // what the phone is told (its own configuration over the settings'), as the portal shows it
        ...(t.device?.registration === 'online'
          ? { device: { ...t.device, config: deviceConfig(t, settings) } }
          : {}),
      })),
    ),
    logins,
    canLogins,
    canTempCode: may(request, 'tokens:write') && !!face.selfService,
    groups: await face.store.listGroups(),
    canWrite: may(request, 'users:write'),
    canTokens: may(request, 'tokens:write'),
    ...data,
  });
}
