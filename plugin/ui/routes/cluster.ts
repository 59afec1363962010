import type { FastifyInstance } from 'fastify';
import { scanAudit } from '../../../src/audit/scan.ts';
import type { AuditEvent } from '../../../src/model/index.ts';
import type { UiFaceOptions } from '../options.ts';
import { page } from '../render.ts';

/** The failover history reads at most this many node events (newest first). */
const MAX_EVENTS = 5_000;

export async function clusterRoutes(app: FastifyInstance, face: UiFaceOptions): Promise<void> {
  app.get('/cluster', { config: { permission: 'cluster:read' } }, async (request, reply) => {
    await face.audit.flush();
    const failovers: AuditEvent[] = [];
    {
      let read = 0;
      for await (const item of scanAudit(face.store, 'event')) {
        if (++read > MAX_EVENTS || failovers.length >= 20) break;
        if (item.event.type.startsWith('failover') || item.event.type === 'node.role')
          failovers.push(item.event);
      }
    }
    return page(request, reply, 'cluster', 'Cluster', { status: await face.cluster.status(), failovers });
  });
}
