// Placeholder: the rlm_rest face is being written in this folder (issue 3); replace this file.
import type { FastifyInstance } from 'fastify';

export async function radiusPlugin(_app: FastifyInstance): Promise<void> {}
