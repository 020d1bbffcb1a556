/**
 * Gathers what concurrent callers hand in during one turn of the event loop and writes it with ONE
 * call. KafkaJS delivers the partitions of one fetch to concurrent eachBatch calls in the same tick;
 * joining them makes one ClickHouse INSERT per fetch instead of one per partition. That matters: an
 * INSERT has a large fixed cost (a new part per table and per materialized view, and the merges
 * that follow), measured at ≈ 80 ms of CPU in chDB — 58 µs per row at 2,000 rows per insert, 17 µs
 * at 50,000 (scripts/bench-sink.ts).
 *
 * Every caller gets the group's outcome: all succeed together or all fail together.
 */
export class InsertGroups<Part, Result> {
  private open: Part[] | undefined;
  private pending: Promise<Result> | undefined;

  constructor(private readonly write: (parts: Part[]) => Promise<Result>) {}

  join(part: Part): Promise<Result> {
    if (!this.open || !this.pending) {
      const parts: Part[] = [];
      this.open = parts;
      this.pending = new Promise<Result>((resolve, reject) => {
        // setImmediate runs after every microtask: all eachBatch calls started by the same fetch have
        // joined by then, unless one awaited real I/O first (it then opens the next group).
        setImmediate(() => {
          this.open = undefined;
          this.pending = undefined;
          this.write(parts).then(resolve, reject);
        });
      });
    }
    this.open.push(part);
    return this.pending;
  }
}
