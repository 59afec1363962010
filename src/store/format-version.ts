import { TesseraError } from '../model/index.ts';
import { VERSION } from '../version.ts';

/**
 * The store format: how the LMDB databases and the Redis keys (under the prefix) are laid out.
 * Raised by a release that changes the layout; stores carry the version that last wrote them
 * (LMDB: `meta` key `formatVersion`; Redis: `<prefix>format`), so a node never serves a store it
 * would misread. Stores written before the marker existed are format 1.
 */
export const STORE_FORMAT_VERSION = 1;
/** The oldest format this release still reads (and migrates up to STORE_FORMAT_VERSION). */
export const OLDEST_STORE_FORMAT = 1;

/** What opening a store found: its format, and what this node does about it (a line for the log). */
export interface StoreFormatCheck {
  /** The marker found; null for a store written before markers (or a new one). */
  found: number | null;
  /** The marker to write now (absent: the store's is current). */
  write?: number;
  note: string;
}

/**
 * Decides whether this node may open a store marked `found`; throws STORE_FORMAT_UNSUPPORTED with
 * both versions and what to do when it may not. `where` names the store in the message.
 */
export function checkStoreFormat(
  found: number | null,
  where: string,
  current = STORE_FORMAT_VERSION,
  oldest = OLDEST_STORE_FORMAT,
): StoreFormatCheck {
  const reads = `Tessera ${VERSION} reads store formats ${oldest} to ${current}`;
  if (found === null)
    return {
      found,
      write: current,
      note: `${where}: no store format marker (written before markers existed: format 1); marked format ${current}, no migration needed`,
    };
  if (!Number.isInteger(found) || found < 1)
    throw new TesseraError(
      'STORE_FORMAT_UNSUPPORTED',
      `${where} carries an unreadable store format marker; ${reads}. Nothing was changed`,
    );
  if (found > current)
    throw new TesseraError(
      'STORE_FORMAT_UNSUPPORTED',
      `${where} is store format version ${found}, newer than this node's (${reads}): a newer release ` +
        `wrote it. Upgrade this node to that release (or newer) before starting it; in a cluster, ` +
        `upgrade nodes in the order of the rolling upgrade in docs/operations.md. Nothing was changed`,
    );
  if (found < oldest)
    throw new TesseraError(
      'STORE_FORMAT_UNSUPPORTED',
      `${where} is store format version ${found}, older than this node reads (${reads}): start a ` +
        `release that reads it first, or back it up there and restore the backup here. Nothing was changed`,
    );
  if (found < current)
    return {
      found,
      write: current,
      note: `${where}: store format ${found}, migrated to ${current}`,
    };
  return { found, note: `${where}: store format ${found}` };
}
