/**
 * A row's position in a partition: the Kafka offset of its message and its index within the message
 * (rows travel many to a message). Watermarks are positions, written `offset:row`.
 */
export interface Position {
  offset: bigint;
  row: number;
}

/** Every row of the message at `offset` (a watermark that covers whole messages). */
export const ALL_ROWS = 2_147_483_647;

export const positionText = (p: Position) => `${p.offset}:${p.row}`;

export function parsePosition(text: string): Position | null {
  if (!text) return null;
  const [offset, row] = text.split(':');
  return { offset: BigInt(offset!), row: Number(row) };
}

/** Whether `p` comes after `wm` (null: nothing applied yet, so everything does). */
export function isAfter(p: Position, wm: Position | null): boolean {
  return !wm || p.offset > wm.offset || (p.offset === wm.offset && p.row > wm.row);
}
