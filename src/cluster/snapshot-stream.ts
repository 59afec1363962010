import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { openBytes, sealBytes } from '../crypto/index.ts';
import { TesseraError } from '../model/index.ts';

/**
 * The frames of a version 2 snapshot, after its two header lines:
 *
 *   u32 length ‖ nonce ‖ AES-256-GCM(gzip(chunk JSON)) ‖ tag      (repeated)
 *
 * Each frame's associated data is sha256(header lines) ‖ u32 frame index ‖ u8 last-frame flag, so
 * a changed header, a dropped, repeated or reordered frame, or a cut-off tail fails authentication
 * like a changed byte does. The last frame is the trailer (counts and checksum). Writing and
 * reading hold one frame at a time: a snapshot of a million users streams in bounded memory.
 */
const MAX_FRAME = 256 * 1024 * 1024;

function frameAad(headHash: Buffer, index: number, last: boolean): Buffer {
  const tail = Buffer.alloc(5);
  tail.writeUInt32BE(index, 0);
  tail.writeUInt8(last ? 1 : 0, 4);
  return Buffer.concat([headHash, tail]);
}

export class FrameWriter {
  private index = 0;
  private readonly headHash: Buffer;
  private readonly sum = createHash('sha256');

  constructor(
    private readonly key: Buffer,
    head: Buffer,
    private readonly sink: (bytes: Buffer) => void,
  ) {
    this.headHash = createHash('sha256').update(head).digest();
    sink(head);
  }

  /** Seals one chunk; its JSON is folded into the running checksum. */
  write(chunk: unknown): number {
    const plain = Buffer.from(JSON.stringify(chunk));
    this.sum.update(plain);
    this.frame(plain, false);
    return plain.length;
  }

  /** Seals the trailer as the last frame; nothing may follow. */
  end(trailer: (checksum: string) => unknown): void {
    const checksum = `sha256:${this.sum.digest('hex')}`;
    this.frame(Buffer.from(JSON.stringify(trailer(checksum))), true);
  }

  private frame(plain: Buffer, last: boolean): void {
    const sealed = sealBytes(
      this.key,
      gzipSync(plain, { level: 1 }),
      frameAad(this.headHash, this.index++, last),
    );
    const len = Buffer.alloc(4);
    len.writeUInt32BE(sealed.length, 0);
    this.sink(Buffer.concat([len, sealed]));
  }
}

/** Random access to the bytes of a snapshot: a file read piecewise, or a buffer in memory. */
export interface ByteSource {
  size: number;
  read(pos: number, len: number): Buffer;
  close(): void;
}

export function bufferSource(bytes: Buffer): ByteSource {
  return { size: bytes.length, read: (pos, len) => bytes.subarray(pos, pos + len), close: () => {} };
}

export function fileSource(path: string): ByteSource {
  const fd = openSync(path, 'r');
  return {
    size: fstatSync(fd).size,
    read(pos, len) {
      const buf = Buffer.alloc(Math.max(0, Math.min(len, this.size - pos)));
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, pos + got);
        if (n === 0) break;
        got += n;
      }
      return buf.subarray(0, got);
    },
    close: () => closeSync(fd),
  };
}

function damaged(message: string): TesseraError {
  return new TesseraError('BAD_REQUEST', message);
}

/**
 * Reads the frames from `start` on, yielding each chunk as it opens; the trailer is returned last.
 * Throws at the first frame that fails, so a caller that must change nothing for a bad file reads
 * it through once (verify) before it acts on the chunks.
 */
export function* readFrames<C>(
  source: ByteSource,
  key: Buffer,
  head: Buffer,
  start: number,
  onBytes?: (pos: number) => void,
): Generator<{ chunk: C; bytes: number }, { trailer: unknown; checksum: string }> {
  const headHash = createHash('sha256').update(head).digest();
  const sum = createHash('sha256');
  let pos = start;
  for (let index = 0; ; index++) {
    const lenBytes = source.read(pos, 4);
    if (lenBytes.length < 4) throw damaged('the snapshot ends early (cut off?): refused, nothing restored');
    const len = lenBytes.readUInt32BE(0);
    if (len > MAX_FRAME || pos + 4 + len > source.size)
      throw damaged('the snapshot ends early or is damaged: refused, nothing restored');
    const sealed = source.read(pos + 4, len);
    pos += 4 + len;
    const last = pos === source.size;
    const opened = openBytes(key, sealed, frameAad(headHash, index, last));
    if (!opened)
      throw damaged(
        index === 0
          ? 'wrong passphrase or key, or the snapshot was changed: refused, nothing restored'
          : 'the snapshot was changed or cut off: refused, nothing restored',
      );
    let plain: Buffer;
    try {
      plain = gunzipSync(opened);
    } catch {
      throw damaged('the snapshot content is damaged');
    }
    onBytes?.(pos);
    if (last) return { trailer: JSON.parse(plain.toString('utf8')), checksum: `sha256:${sum.digest('hex')}` };
    sum.update(plain);
    yield { chunk: JSON.parse(plain.toString('utf8')) as C, bytes: plain.length };
  }
}
