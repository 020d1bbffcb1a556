import { describe, expect, it } from 'vitest';
import { replicationFor } from '../src/kafka/topics.js';

describe('replication of the topics burnrate creates', () => {
  it('follows the cluster: one broker gets 1 replica, three or more get 3 with min.insync.replicas 2', () => {
    expect(replicationFor({}, 1)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
    expect(replicationFor({}, 2)).toEqual({ replicationFactor: 2, minInsyncReplicas: 1 });
    expect(replicationFor({}, 3)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(replicationFor({}, 7)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
  });

  it('takes KAFKA_REPLICATION_FACTOR and KAFKA_MIN_INSYNC_REPLICAS as given', () => {
    expect(replicationFor({ replicationFactor: 5 }, 7)).toEqual({
      replicationFactor: 5,
      minInsyncReplicas: 2,
    });
    expect(replicationFor({ replicationFactor: 3, minInsyncReplicas: 3 }, 1)).toEqual({
      replicationFactor: 3,
      minInsyncReplicas: 3,
    });
  });
});
