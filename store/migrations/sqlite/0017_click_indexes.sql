-- Migration 17: clicks: one (touchpoint_id, delivery_id) index instead of one on each column.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE INDEX `ix_clicks_touchpoint_delivery` ON `clicks`(`touchpoint_id`,`delivery_id`);

DROP INDEX `idx_clicks_delivery_id`;

DROP INDEX `idx_clicks_touchpoint_id`;
