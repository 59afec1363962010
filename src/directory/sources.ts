import { loadSettings } from '../admin/settings.ts';
import { type StoredDirectorySource, TesseraError } from '../model/index.ts';
import type { Store } from '../store/index.ts';

// Sources live in the settings record: a handful of entries, replicated and backed up with the
// rest of the configuration, and no new store methods for either store to carry.

export async function listSources(store: Store): Promise<StoredDirectorySource[]> {
  return (await loadSettings(store)).directorySources ?? [];
}

export async function getSource(store: Store, name: string): Promise<StoredDirectorySource> {
  const found = (await listSources(store)).find((s) => s.name === name);
  if (!found) throw new TesseraError('NOT_FOUND', 'no directory source by that name');
  return found;
}

export async function addSource(store: Store, source: StoredDirectorySource): Promise<void> {
  const settings = await loadSettings(store);
  const sources = settings.directorySources ?? [];
  if (sources.some((s) => s.name === source.name)) {
    throw new TesseraError('CONFLICT', 'a directory source by that name exists');
  }
  await store.putSettings({ ...settings, directorySources: [...sources, source] });
}

export async function removeSource(store: Store, name: string): Promise<boolean> {
  const settings = await loadSettings(store);
  const sources = settings.directorySources ?? [];
  const rest = sources.filter((s) => s.name !== name);
  if (rest.length === sources.length) return false;
  await store.putSettings({ ...settings, directorySources: rest });
  return true;
}
