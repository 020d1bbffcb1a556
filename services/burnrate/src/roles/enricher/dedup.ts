import type { Redis } from 'ioredis';

/**
 * Remembers, per event_id, the Kafka position where it was first seen (SET NX with a TTL). A second
 * sighting at the SAME position is a replay of that record (the enricher crashed before committing)
 * and passes; at a DIFFERENT position it is a true duplicate (a client resent an event whose ack was
 * lost) and is dropped from the facts and dead-lettered as `duplicate_event_id`.
 */
const SCRIPT = `
local dup = {}
for i, key in ipairs(KEYS) do
  local pos = ARGV[i + 1]
  if not redis.call('SET', key, pos, 'NX', 'EX', ARGV[1]) then
    local first = redis.call('GET', key)
    if first ~= pos then dup[#dup + 1] = i end
  end
end
return dup`;

const CHUNK = 2_000;

export class EventDeduper {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    /** How long an event_id is remembered; Redis memory grows with rate × window (≈ 200 B per id, measured; docs/capacity.md). */
    private readonly windowSeconds: number,
  ) {}

  /** Returns the indexes (0-based) of `ids` that are duplicates of an event first seen elsewhere. */
  async duplicates(ids: string[], positions: string[]): Promise<Set<number>> {
    const result = new Set<number>();
    if (this.windowSeconds <= 0) return result;
    for (let start = 0; start < ids.length; start += CHUNK) {
      const keys = ids.slice(start, start + CHUNK).map((id) => `${this.keyPrefix}${id}`);
      const args = [String(this.windowSeconds), ...positions.slice(start, start + CHUNK)];
      const dup = (await this.redis.eval(SCRIPT, keys.length, ...keys, ...args)) as number[];
      for (const i of dup) result.add(start + i - 1);
    }
    return result;
  }
}
