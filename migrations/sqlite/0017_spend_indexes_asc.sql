-- The three listing indexes of spend_events, ascending: the same columns and the same partial
-- condition as 0009 gave them, without `DESC`.
--
-- Why: a bank file lists a statement oldest first, so an import inserts events in ascending
-- (booked_on, occurred_at) order. In a `DESC` index every such entry lands at the left edge,
-- where SQLite splits a full page half and half: the three indexes were left about half empty
-- (45-53 % of their pages unused after 300,000 imported rows) and cost about 30 % of an import's
-- insert time. Ascending, the same entries append at the right edge, where SQLite fills pages.
--
-- The listings read them as before: `ORDER BY booked_on DESC, occurred_at DESC, id DESC` walks
-- an ascending index backwards, and a date range or the cursor's row value
-- `(booked_on, occurred_at, id) < (...)` is still a range of it. `EXPLAIN QUERY PLAN` of every
-- filter shape of `ledger::store::sql::Build::page` gives the same plan before and after, each a
-- `SEARCH ... USING INDEX` with no `USE TEMP B-TREE FOR ORDER BY` (bench/README.md, "Listing
-- indexes ascending", lists them), e.g.:
--   first page:                  SEARCH spend_events USING INDEX spend_events_recent (tenant_id=?)
--   cursor page:                 ... spend_events_recent (tenant_id=? AND (booked_on,occurred_at,id)<(?,?,?))
--   account + dates + amount:    ... spend_events_by_account (tenant_id=? AND account_id=? AND booked_on>? AND booked_on<?)
--   counterparty:                ... spend_events_by_counterparty (tenant_id=? AND counterparty=?)
-- Rebuilding the three indexes reads the whole table once, inside this migration's transaction.
DROP INDEX spend_events_recent;
DROP INDEX spend_events_by_account;
DROP INDEX spend_events_by_counterparty;
CREATE INDEX spend_events_recent ON spend_events
    (tenant_id, booked_on, occurred_at, id) WHERE removed_at IS NULL;
CREATE INDEX spend_events_by_account ON spend_events
    (tenant_id, account_id, booked_on, occurred_at, id) WHERE removed_at IS NULL;
CREATE INDEX spend_events_by_counterparty ON spend_events
    (tenant_id, counterparty, booked_on, occurred_at, id) WHERE removed_at IS NULL;
