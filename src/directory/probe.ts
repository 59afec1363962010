import { SizeLimitExceededError } from 'ldapts';
import type { KeyRing } from '../crypto/index.ts';
import { type StoredDirectorySource, TesseraError } from '../model/index.ts';
import { classify, withServiceBind } from './connect.ts';
import { checkFilter, userAttributes, userFilterOf } from './fetch.ts';
import { openBindPassword } from './source.ts';

export interface ProbeResult {
  ok: true;
  /** Entries the sample search returned (at most `sample`). */
  sampleCount: number;
  elapsedMs: number;
}

/**
 * Binds as the service account and runs one small search of users: the check an admin runs after
 * adding a source. Every failure is a TesseraError with a DIRECTORY_* code.
 */
export async function probeSource(
  source: StoredDirectorySource,
  ring: KeyRing,
  sample = 5,
): Promise<ProbeResult> {
  const started = Date.now();
  const password = openBindPassword(source, ring);
  if (password === null)
    throw new TesseraError(
      'DIRECTORY_BAD_CREDENTIALS',
      'this node cannot open the bind password (another key ring)',
    );
  const filter = userFilterOf(source);
  checkFilter(filter);
  try {
    const count = await withServiceBind(source, password, async (client) => {
      try {
        const { searchEntries } = await client.search(source.baseDn, {
          scope: 'sub',
          filter,
          attributes: userAttributes(source),
          sizeLimit: sample,
        });
        return searchEntries.length;
      } catch (e) {
        // the size limit reached means the search worked: there are more entries than the sample
        if (e instanceof SizeLimitExceededError) return sample;
        throw e;
      }
    });
    return { ok: true, sampleCount: count, elapsedMs: Date.now() - started };
  } catch (e) {
    throw classify(e);
  }
}
