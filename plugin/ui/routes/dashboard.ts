import type { FastifyInstance } from 'fastify';
import { horizontalBars, stackedColumns } from '../charts.ts';
import type { UiFaceOptions } from '../options.ts';
import { may, page } from '../render.ts';
import { lockedNow, loginStats, userCount } from '../stats.ts';

const RESULTS = [
  { key: 'accept', label: 'accepted', colour: '#1d6b2f' },
  { key: 'challenge', label: 'challenged', colour: '#0b5cad' },
  { key: 'reject', label: 'rejected', colour: '#a4161a' },
];

export async function dashboardRoutes(app: FastifyInstance, face: UiFaceOptions): Promise<void> {
  app.get('/', { config: { permission: 'cluster:read' } }, async (request, reply) => {
    const showLogins = may(request, 'audit:read');
    const showUsers = may(request, 'users:read');
    if (showLogins || showUsers) await face.audit.flush();
    const stats = showLogins || showUsers ? await loginStats(face.store) : null;
    const hourLabel = (t: number) => new Date(t).toISOString().slice(11, 13) + 'h';
    const total = stats
      ? stats.hours.reduce((n, h) => n + Object.values(h.values).reduce((a, b) => a + b, 0), 0)
      : 0;
    return page(request, reply, 'dashboard', 'Dashboard', {
      users: await userCount(face.store),
      cluster: await face.cluster.status(),
      loginsChart:
        showLogins && stats
          ? stackedColumns(
              stats.hours.map((h) => ({ label: hourLabel(h.start), values: h.values })),
              RESULTS,
              `Logins per hour over the last 24 hours by result: ${total} in all`,
            )
          : null,
      reasonsChart:
        showLogins && stats
          ? horizontalBars(
              stats.reasons,
              '#a4161a',
              `Top failure reasons: ${stats.reasons.map((r) => `${r.label} ${r.value}`).join(', ') || 'none'}`,
            )
          : null,
      truncated: stats?.truncated ?? false,
      locked: showUsers && stats ? await lockedNow(face.store, stats.lockedCandidates) : null,
    });
  });
}
