-- Rows travel many to a Kafka message, so a Kafka offset alone does not name a row. kafka_row is the
-- row's index within its message: the ledger's replay guard skips exactly the (offset, row) pairs
-- already stored, even when an earlier insert landed only partly (one part per month, or halves of
-- a bisected insert). Rows stored before this migration read 0.
ALTER TABLE {database}.usage_events ADD COLUMN IF NOT EXISTS kafka_row UInt32 DEFAULT 0 AFTER kafka_offset;

ALTER TABLE {database}.dead_letters ADD COLUMN IF NOT EXISTS kafka_row UInt32 DEFAULT 0 AFTER kafka_offset;
