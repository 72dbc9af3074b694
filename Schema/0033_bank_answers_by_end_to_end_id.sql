-- The bank's answers name each payment by its EndToEndId: importing a pain.002 or a camt.054 looks up, for every
-- entry, the item still with the bank. Without an index each lookup read every item ever batched, so a
-- notification of n entries read n times the whole table (Scripts/bench, B6).
CREATE INDEX payment_batch_item_end_to_end_id ON grants.payment_batch_item (end_to_end_id) WHERE status = 'sent';
